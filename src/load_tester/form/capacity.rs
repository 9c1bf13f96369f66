//! The form's capacity fields: the load model (closed loop, constant rate,
//! Poisson arrivals), the SLO targets, and a sweep of rising loads. Checked by
//! the core's `LoadForm::plan`, like the rest of the form.

use leptos::prelude::*;
use sse_core::load::model::LoadModel;
use sse_core::load::plan::{LoadForm, MAX_CONCURRENCY, MAX_RATE};

use super::field::error;
use crate::load_tester::TesterState;

/// One text box of the form: label, hook, the field its message belongs to.
struct Field {
    label: &'static str,
    title: &'static str,
    testid: &'static str,
    error: &'static str,
    read: fn(&LoadForm) -> String,
    write: fn(&mut LoadForm, String),
}

fn field(state: TesterState, f: Field) -> impl IntoView {
    let running = move || state.running();
    // As in the size fields, the box is not written back while typing.
    let initial = state.form.with_untracked(f.read);
    let write = f.write;
    view! {
        <label title=f
            .title>
            {f.label}
            <input
                type="text"
                inputmode="decimal"
                data-testid=f.testid
                value=initial
                on:input=move |ev| state.form.update(|form| write(form, event_target_value(&ev)))
                prop:disabled=running
            /> {error(state, f.error)}
        </label>
    }
}

#[component]
pub(super) fn LoadModelFields(state: TesterState) -> impl IntoView {
    let running = move || state.running();
    let open = move || {
        state
            .form
            .with(|f| LoadModel::from_id(&f.mode).is_some_and(LoadModel::is_open))
    };
    let poisson = move || state.form.with(|f| f.mode == LoadModel::Poisson.id());
    let mode = state.form.with_untracked(|f| f.mode.clone());
    view! {
        <label title="Closed loop: N workers, each sending its next request when its previous one ended (the service's slowness slows the load). Open loop: requests arrive on a schedule whatever the service does, as real users do; latency is also measured from each arrival.">
            "Load model"
            <select
                data-testid="lt-mode"
                prop:disabled=running
                on:change=move |ev| state.form.update(|f| f.mode = event_target_value(&ev))
            >
                {LoadModel::ALL
                    .map(|m| {
                        view! {
                            <option value=m.id() selected=m.id() == mode>
                                {m.label()}
                            </option>
                        }
                    })}
            </select> {error(state, "mode")}
        </label>
        <div class="field-group" hidden=move || !open()>
            {field(
                state,
                Field {
                    label: "Rate (requests/s)",
                    title: "Open loop: arrivals per second (at most 500). In a sweep, the steps give the rate.",
                    testid: "lt-rate",
                    error: "rate",
                    read: |f| f.rate.clone(),
                    write: |f, v| f.rate = v,
                },
            )}
            {field(
                state,
                Field {
                    label: "Stop at (requests, optional)",
                    title: "Open loop: stop sending after this many requests, even before the duration ends (empty: the duration alone ends the run, as in k6's arrival-rate executors). The results say which of the two ended it.",
                    testid: "lt-max-requests",
                    error: "max-requests",
                    read: |f| f.max_requests.clone(),
                    write: |f, v| f.max_requests = v,
                },
            )}
            {field(
                state,
                Field {
                    label: "Requests in flight at most",
                    title: "Open loop: arrivals beyond this wait for a free slot and start late (a late start; their wait counts in the latency from the intended start). At most 128: one HTTP/2 connection carries 128 streams (nginx's http2_max_concurrent_streams); over HTTP/1.1 the browser sends 6 at a time and holds the rest.",
                    testid: "lt-max-in-flight",
                    error: "max-in-flight",
                    read: |f| f.max_in_flight.clone(),
                    write: |f, v| f.max_in_flight = v,
                },
            )}
        </div>
        <div class="field-group" hidden=move || !poisson()>
            {field(
                state,
                Field {
                    label: "Seed",
                    title: "Poisson: the same seed gives the same arrivals, so a run can be repeated.",
                    testid: "lt-seed",
                    error: "seed",
                    read: |f| f.seed.clone(),
                    write: |f, v| f.seed = v,
                },
            )}
        </div>
        {field(
            state,
            Field {
                label: "Duration (s)",
                title: "The run stops sending after this long. Closed loop: empty = when the total is sent (whichever comes first). Open loop: required (unless a request cap is set); arrivals still waiting for a slot then are dropped.",
                testid: "lt-duration-s",
                error: "duration",
                read: |f| f.duration_s.clone(),
                write: |f, v| f.duration_s = v,
            },
        )}
        {field(
            state,
            Field {
                label: "Statistics every (s)",
                title: sse_core::metrics::STAGE_INTERVAL_MEAN,
                testid: "lt-stats-every-s",
                error: "stats-every",
                read: |f| f.stats_every_s.clone(),
                write: |f, v| f.stats_every_s = v,
            },
        )}
    }
}

#[component]
pub(super) fn SloFields(state: TesterState) -> impl IntoView {
    let target = |label, testid, error, read: fn(&LoadForm) -> String, write| {
        field(
            state,
            Field {
                label,
                title: "A request is good when it completed within every target (TTFT and E2E from its intended start). Empty: no target.",
                testid,
                error,
                read,
                write,
            },
        )
    };
    view! {
        <fieldset class="wide slo-fields">
            <legend>"SLO targets per request (empty = none)"</legend>
            {target(
                "TTFT (ms)",
                "lt-slo-ttft-ms",
                "slo-ttft",
                |f| f.slo_ttft_ms.clone(),
                |f, v| f.slo_ttft_ms = v,
            )}
            {target(
                "E2E (ms)",
                "lt-slo-e2e-ms",
                "slo-e2e",
                |f| f.slo_e2e_ms.clone(),
                |f, v| f.slo_e2e_ms = v,
            )}
            {target(
                "TPOT (ms)",
                "lt-slo-tpot-ms",
                "slo-tpot",
                |f| f.slo_tpot_ms.clone(),
                |f, v| f.slo_tpot_ms = v,
            )}
            {field(
                state,
                Field {
                    label: "Good requests needed (%)",
                    title: "The run (or step) passes when at least this share of its completed and failed requests is good.",
                    testid: "lt-slo-good-pct",
                    error: "slo-good",
                    read: |f| f.slo_good_pct.clone(),
                    write: |f, v| f.slo_good_pct = v,
                },
            )}
        </fieldset>
    }
}

#[component]
pub(super) fn SweepFields(state: TesterState) -> impl IntoView {
    let running = move || state.running();
    let steps_title = format!(
        "Rising loads, e.g. 5,10,20,40: concurrency in a closed loop (at most {MAX_CONCURRENCY}), requests/s in an open loop (at most {MAX_RATE}). Empty: one run of the form's size. Each step runs for its seconds; the total is then no bound."
    );
    view! {
        <fieldset class="wide slo-fields">
            <legend>"Sweep (empty = a single run)"</legend>
            <label title=steps_title>
                "Steps"
                <input
                    type="text"
                    data-testid="lt-sweep-steps"
                    placeholder="5,10,20,40"
                    value=state.form.with_untracked(|f| f.sweep_steps.clone())
                    on:input=move |ev| {
                        state.form.update(|f| f.sweep_steps = event_target_value(&ev))
                    }
                    prop:disabled=running
                /> {error(state, "sweep-steps")}
            </label>
            {field(
                state,
                Field {
                    label: "Seconds per step",
                    title: "How long each step sends; it ends when its last request has ended.",
                    testid: "lt-step-s",
                    error: "step",
                    read: |f| f.step_s.clone(),
                    write: |f, v| f.step_s = v,
                },
            )}
            {field(
                state,
                Field {
                    label: "Warm-up per step (s)",
                    title: "Requests that start in a step's first seconds are sent but not counted in its figures: the queue the previous step left and connections still opening do not judge it.",
                    testid: "lt-warmup-s",
                    error: "warmup",
                    read: |f| f.warmup_s.clone(),
                    write: |f, v| f.warmup_s = v,
                },
            )}
            <label
                class="switch"
                title="Ends the sweep after two steps in a row failed their SLOs."
            >
                <input
                    type="checkbox"
                    data-testid="lt-stop-early"
                    prop:checked=move || state.form.with(|f| f.stop_early)
                    on:change=move |ev| {
                        state.form.update(|f| f.stop_early = event_target_checked(&ev))
                    }
                    prop:disabled=running
                />
                "Stop after two failing steps"
            </label>
        </fieldset>
    }
}
