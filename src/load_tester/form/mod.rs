//! The run's form: what to send, how much of it, and Start/Stop. Every field
//! has its message beside it; Start waits until there is none.

use leptos::prelude::*;
use sse_core::load::plan::{model_suggestions, MAX_CONCURRENCY, PROVIDERS};

mod capacity;
mod field;

use super::{run, TesterState};
use field::{error, set};

#[component]
pub(in crate::load_tester) fn LoadFormView(state: TesterState) -> impl IntoView {
    let running = move || state.running();
    let phase = move || {
        state
            .live
            .with(|l| l.as_ref().map_or("idle", |l| l.phase.word()))
    };
    view! {
        <form class="load-form" on:submit=|ev| ev.prevent_default() data-testid="lt-form">
            <RequestFields state />
            <SizeFields state />
            <capacity::LoadModelFields state />
            <capacity::SloFields state />
            <capacity::SweepFields state />
            <div class="load-actions wide">
                <button
                    type="button"
                    data-testid="lt-start"
                    on:click=move |_| run::start(state)
                    prop:disabled=move || running() || state.problems.with(|p| !p.is_empty())
                >
                    "Start"
                </button>
                <button
                    type="button"
                    data-testid="lt-stop"
                    class="secondary"
                    on:click=move |_| run::stop(state)
                    prop:disabled=move || !running()
                >
                    "Stop"
                </button>
                <span class="run-state" data-testid="lt-state" data-state=phase>
                    {phase}
                </span>
            </div>
        </form>
    }
}

/// What each request sends: prompt, provider, model.
#[component]
fn RequestFields(state: TesterState) -> impl IntoView {
    let running = move || state.running();
    let models = move || state.form.with(|f| model_suggestions(&f.provider));
    view! {
        <label class="wide">
            "Prompt"
            <textarea
                data-testid="lt-prompt"
                rows="2"
                prop:value=move || state.form.with(|f| f.prompt.clone())
                on:input=set(state, |f, v| f.prompt = v)
                prop:disabled=running
            ></textarea> {error(state, "prompt")}
        </label>
        <label>
            "Provider"
            <input
                type="text"
                list="lt-providers"
                data-testid="lt-provider"
                prop:disabled=running
                prop:value=move || state.form.with(|f| f.provider.clone())
                on:input=set(state, |f, v| f.provider = v)
            />
            <datalist id="lt-providers">
                {PROVIDERS.map(|(value, label)| view! { <option value=value>{label}</option> })}
            </datalist> {error(state, "provider")}
        </label>
        <label>
            "Model"
            <input
                type="text"
                list="lt-models"
                data-testid="lt-model"
                prop:disabled=running
                prop:value=move || state.form.with(|f| f.model.clone())
                on:input=set(state, |f, v| f.model = v)
            />
            <datalist id="lt-models">
                {move || {
                    models().iter().map(|m| view! { <option value=*m></option> }).collect_view()
                }}
            </datalist> {error(state, "model")}
        </label>
    }
}

/// How much load: concurrency, total, time limit, users.
#[component]
fn SizeFields(state: TesterState) -> impl IntoView {
    let running = move || state.running();
    // Number boxes are not written back from the form: while a person types
    // "1e3", the box reads "" at "1e", and writing that back would erase it.
    // Their start values come from here; the slider sets the box directly.
    let initial = state.form.get_untracked();
    let concurrency_box = NodeRef::<leptos::html::Input>::new();
    let slide = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        if let Some(number) = concurrency_box.get_untracked() {
            number.set_value(&v);
        }
        state.form.update(|f| f.concurrency = v);
    };
    view! {
        <label
            hidden=move || {
                state.form.with(|f| f.mode != "closed" || !f.sweep_steps.trim().is_empty())
            }
            title="Closed loop: requests in flight at all times, each ending request replaced at once until the total is sent (in a sweep, the steps give it). At most 128: one HTTP/2 connection carries 128 streams (nginx's http2_max_concurrent_streams); over HTTP/1.1 the browser sends 6 at a time per host and holds the rest."
        >
            "Concurrency"
            <span class="range-pair">
                <input
                    type="range"
                    min="1"
                    max=MAX_CONCURRENCY
                    data-testid="lt-concurrency-range"
                    aria-label="Concurrency (slider)"
                    prop:value=move || state.form.with(|f| f.concurrency.clone())
                    on:input=slide
                    prop:disabled=running
                />
                <input
                    type="number"
                    min="1"
                    max=MAX_CONCURRENCY
                    step="1"
                    data-testid="lt-concurrency"
                    node_ref=concurrency_box
                    value=initial.concurrency
                    on:input=set(state, |f, v| f.concurrency = v)
                    prop:disabled=running
                />
            </span>
            {error(state, "concurrency")}
        </label>
        <label
            hidden=move || state.form.with(|f| f.mode != "closed")
            title="Closed loop: the run sends this many requests (or stops at its duration, whichever comes first). An open loop has no total: its duration ends it."
        >
            "Total requests"
            <input
                type="number"
                min="1"
                step="1"
                data-testid="lt-total"
                value=initial.total
                on:input=set(state, |f, v| f.total = v)
                prop:disabled=running
            />
            {error(state, "total")}
        </label>
        <label title="A request whose stream has not ended after this long is aborted and counted as a failure (timed out).">
            "Timeout per request (s)"
            <input
                type="number"
                min="1"
                step="1"
                data-testid="lt-timeout"
                value=initial.timeout_s
                on:input=set(state, |f, v| f.timeout_s = v)
                prop:disabled=running
            /> {error(state, "timeout")}
        </label>
        <label
            class="switch wide"
            title="Sends X-User-ID: one user per worker, as many users would. Off: every request is the same user (the service queues a user's streams beyond its per-user limit)."
        >
            <input
                type="checkbox"
                data-testid="lt-user-per-worker"
                prop:checked=move || state.form.with(|f| f.user_per_worker)
                on:change=move |ev| {
                    state.form.update(|f| f.user_per_worker = event_target_checked(&ev))
                }
                prop:disabled=running
            />
            "One user per worker (X-User-ID)"
        </label>
    }
}
