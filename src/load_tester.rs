//! The load tester (a module of its own, see `src/bin/load_tester.rs`, shown
//! inside the dashboard's load tester panel): the form, the live view of a run (updated once per
//! animation frame, never per chunk), the results with their definitions,
//! exports, and the last runs side by side. The engine is in `load_engine`;
//! validation, statistics and exports are in the core crate.

use std::cell::RefCell;
use std::rc::Rc;

use charming::component::Axis;
use charming::datatype::DataPoint;
use charming::element::AxisType;
use charming::series::Line;
use leptos::prelude::*;
use sse_core::distribution::Summary;
use sse_core::format;
use sse_core::load_plan::{
    browser_caps_concurrency, may_cost_money, model_suggestions, FormProblem, LoadForm,
    HTTP1_CONNECTIONS_PER_HOST, MAX_CONCURRENCY, PROVIDERS,
};
use sse_core::run_report::{
    compare, history_from_json, history_to_json, history_with, to_csv, to_json, RunSummary,
};
use sse_core::run_stats::Window;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::app::shared;
use crate::echarts::{self, ChartOption, DrawnChart};
use crate::load_engine::{self, Phase, SharedRun};

const HISTORY_KEY: &str = "dashboard.load_runs";
const LATENCY_CHART: &str = "lt-latency-chart";
/// How often the results and the chart follow a running test.
const RESULTS_EVERY_MS: f64 = 1_000.0;

/// Definitions shown as tooltips and in docs/metrics.md.
fn definition(metric: &str) -> &'static str {
    match metric {
        "e2e" => "E2E latency: from sending the request to the end of its stream (`complete`, `[DONE]`, or the end). Completed requests only.",
        "ttft" => "TTFT, time to first token: from sending the request to the first chunk with non-empty content (not to the headers, which come at once). Completed requests only.",
        "itl" => "ITL, inter-token latency: each gap between two consecutive content chunks of a request, pooled over all completed requests.",
        "tpot" => "TPOT, time per output token: (E2E − TTFT) / (output tokens − 1) per completed request with more than one token.",
        "queue" => "Browser wait: from fetch() to the request leaving the browser (Resource Timing requestStart − startTime): waiting for a connection, plus connecting. Over HTTP/1.1 requests beyond 6 wait here.",
        "p50" => "p50: half of the values are at most this (nearest rank).",
        "p90" => "p90: 90% of the values are at most this (nearest rank).",
        "p95" => "p95: 95% of the values are at most this (nearest rank).",
        "p99" => "p99: 99% of the values are at most this; the slow tail (nearest rank).",
        "min" => "The smallest value.",
        "mean" => "The arithmetic mean.",
        "max" => "The largest value.",
        "count" => "How many values: requests, or chunk gaps for ITL.",
        "tokens" => "Output tokens, estimated as ceil(characters / 4) of the streamed text (a chunk is not a token).",
        "rps" => "Completed requests per second over the run's wall time.",
        "tps" => "Output tokens per second over the run's wall time.",
        _ => "",
    }
}

/// What the live counters show; taken from the run at most once per frame.
#[derive(Debug, Clone, PartialEq)]
struct Live {
    phase: Phase,
    planned: u64,
    sent: u64,
    active: u64,
    completed: u64,
    failed: u64,
    aborted: u64,
    tokens: u64,
    elapsed_ms: f64,
    requests_per_s: Option<f64>,
    tokens_per_s: Option<f64>,
    protocol: Option<String>,
}

impl Live {
    fn of(run: &load_engine::Run) -> Self {
        let elapsed_ms = run.elapsed_ms();
        let tokens = run.live_tokens();
        let per_s = |n: u64| (elapsed_ms > 0.0).then(|| n as f64 / (elapsed_ms / 1000.0));
        Self {
            phase: run.phase,
            planned: run.plan.total,
            sent: run.sent(),
            active: run.active(),
            completed: run.stats.completed,
            failed: run.stats.failed,
            aborted: run.stats.aborted,
            tokens,
            elapsed_ms,
            requests_per_s: per_s(run.stats.completed),
            tokens_per_s: per_s(tokens),
            protocol: run
                .stats
                .by_protocol
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(p, _)| p.clone()),
        }
    }
}

/// Calls `tick` once per animation frame until it returns false.
fn every_frame(mut tick: impl FnMut() -> bool + 'static) {
    type Frame = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;
    fn request(frame: &Frame) {
        if let (Some(window), Some(callback)) = (web_sys::window(), frame.borrow().as_ref()) {
            let _ = window.request_animation_frame(callback.as_ref().unchecked_ref());
        }
    }
    let frame: Frame = Rc::new(RefCell::new(None));
    let again = frame.clone();
    *frame.borrow_mut() = Some(Closure::new(move || {
        if tick() {
            request(&again);
        } else {
            // The closure's last call: dropping it here frees it once it returns.
            let _ = again.borrow_mut().take();
        }
    }));
    request(&frame);
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A downloadable file of `text`, as an object URL.
fn object_url(text: &str, mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The exports of the last run.
#[derive(Debug, Clone, PartialEq, Default)]
struct Exports {
    json: Option<String>,
    csv: Option<String>,
    name: String,
}

impl Exports {
    fn revoke(&self) {
        for url in [&self.json, &self.csv].into_iter().flatten() {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

fn latency_chart(windows: &[Window]) -> ChartOption {
    let labels: Vec<String> = windows
        .iter()
        .map(|w| format!("{:.0} s", w.start_ms / 1000.0))
        .collect();
    let line = |name: &str, value: &dyn Fn(&Window) -> Option<f64>| {
        Line::new().name(name).data(
            windows
                .iter()
                .map(|w| value(w).map_or_else(|| DataPoint::from("-"), DataPoint::from))
                .collect::<Vec<_>>(),
        )
    };
    ChartOption::new(
        Axis::new().type_(AxisType::Category).data(labels),
        Axis::new().type_(AxisType::Value).name("ms"),
    )
    .line(line("E2E p50 (per window)", &|w| w.e2e.percentile(50.0)))
    .line(line("E2E p95 (per window)", &|w| w.e2e.percentile(95.0)))
    .line(line("TTFT p50 (per window)", &|w| w.ttft.percentile(50.0)))
}

fn problem_for(problems: &[FormProblem], field: &str) -> Option<String> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.message.clone())
}

#[component]
pub fn LoadTester() -> impl IntoView {
    let shared = shared();
    let form = RwSignal::new(LoadForm::default());
    let problems = Memo::new(move |_| form.with(|f| f.plan().err().unwrap_or_default()));
    let run = StoredValue::new_local(None::<SharedRun>);
    let live = RwSignal::new(None::<Live>);
    let results = RwSignal::new(None::<RunSummary>);
    let exports = RwSignal::new(Exports::default());
    let history = RwSignal::new(history_from_json(
        local_storage()
            .and_then(|s| s.get_item(HISTORY_KEY).ok().flatten())
            .as_deref(),
    ));
    let compare_a = RwSignal::new(None::<usize>);
    let compare_b = RwSignal::new(None::<usize>);
    let chart = StoredValue::new_local(None::<DrawnChart>);
    let detected_protocol = RwSignal::new(None::<String>);

    // What the browser said about the protocol of the API, checked now and then.
    let detect = move || {
        let api = shared.api.get_untracked();
        detected_protocol.set(load_engine::known_protocol(&api));
    };
    detect();
    let detector = gloo_timers::callback::Interval::new(2_000, detect);
    let detector = send_wrapper::SendWrapper::new(detector);
    on_cleanup(move || {
        detector.take().cancel();
    });

    let running = move || {
        live.with(|l| {
            l.as_ref()
                .is_some_and(|l| matches!(l.phase, Phase::Running | Phase::Stopping))
        })
    };
    let protocol = move || {
        live.with(|l| l.as_ref().and_then(|l| l.protocol.clone()))
            .or_else(|| detected_protocol.get())
    };
    let concurrency = move || {
        form.with(|f| f.concurrency.trim().parse::<u32>().ok())
            .unwrap_or(1)
    };
    let capped = move || browser_caps_concurrency(protocol().as_deref(), concurrency());

    // Percentiles sort their samples: once a second here, never per frame.
    let refresh_results = move |r: &load_engine::Run| -> RunSummary {
        let summary = r.summary();
        results.set(Some(summary.clone()));
        // Drawn from the run's windows in place: no copy of their samples.
        echarts::draw(
            chart,
            LATENCY_CHART,
            &latency_chart(r.stats.series.windows()),
            true,
        );
        summary
    };
    let finish = move || {
        let Some(current) = run.get_value() else {
            return;
        };
        let r = current.borrow();
        live.set(Some(Live::of(&r)));
        let summary = refresh_results(&r);
        let name = format!("load-test-{}", summary.started_at_ms as u64);
        let previous = exports.get_untracked();
        previous.revoke();
        exports.set(Exports {
            json: object_url(&to_json(&summary, &r.rows), "application/json"),
            csv: object_url(&to_csv(&summary, &r.rows), "text/csv"),
            name,
        });
        let updated = history_with(history.get_untracked(), summary);
        if let Some(storage) = local_storage() {
            // A full storage keeps the run on the page, just not in the history.
            let _ = storage.set_item(HISTORY_KEY, &history_to_json(&updated));
        }
        history.set(updated);
    };

    let start = move |_| {
        let Ok(plan) = form.with_untracked(LoadForm::plan) else {
            return;
        };
        let provider = plan.request.provider.clone().unwrap_or_default();
        if may_cost_money(&provider) {
            let question = format!(
                "Requests to the provider \"{}\" may go to a real, paid LLM: {} requests. Continue?",
                if provider.is_empty() { "(service default)" } else { &provider },
                plan.total
            );
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message(&question).ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
        }
        exports.get_untracked().revoke();
        exports.set(Exports::default());
        results.set(None);
        echarts::draw(chart, LATENCY_CHART, &latency_chart(&[]), true);
        let current = load_engine::start(plan, shared.api.get_untracked(), finish);
        live.set(Some(Live::of(&current.borrow())));
        run.set_value(Some(current.clone()));
        // The view follows the run once per frame, and only when something changed.
        let mut shown_version = u64::MAX;
        let mut shown_at = 0.0;
        let mut results_at = 0.0;
        every_frame(move || {
            let r = current.borrow();
            let now = load_engine::now_ms();
            if r.phase == Phase::Finished {
                return false;
            }
            if r.version != shown_version || now - shown_at > 250.0 {
                live.set(Some(Live::of(&r)));
                shown_version = r.version;
                shown_at = now;
            }
            if now - results_at > RESULTS_EVERY_MS {
                refresh_results(&r);
                results_at = now;
            }
            true
        });
    };
    let stop = move |_| {
        if let Some(current) = run.get_value() {
            load_engine::stop(&current);
            live.set(Some(Live::of(&current.borrow())));
        }
    };

    // Number boxes are not written back from the form: while a person types
    // "1e3", the box reads "" at "1e", and writing that back would erase it.
    // Their start values come from here; the slider sets the box directly.
    let initial = form.get_untracked();
    let concurrency_box = NodeRef::<leptos::html::Input>::new();
    let field = move |name: &'static str| move || problems.with(|p| problem_for(p, name));
    let set = move |write: fn(&mut LoadForm, String)| {
        move |ev: leptos::ev::Event| form.update(|f| write(f, event_target_value(&ev)))
    };
    let counter = move |testid: &'static str,
                        label: &'static str,
                        title: &'static str,
                        value: fn(&Live) -> u64| {
        view! {
            <div title=title>
                <dt>{label}</dt>
                <dd data-testid=testid data-value=move || live.with(|l| l.as_ref().map(|l| value(l).to_string()).unwrap_or_default())>
                    {move || live.with(|l| l.as_ref().map_or_else(|| format::ABSENT.to_owned(), |l| format::count(value(l))))}
                </dd>
            </div>
        }
    };
    let state = move || live.with(|l| l.as_ref().map_or("idle", |l| l.phase.word()));

    view! {
        <div class="load-tester">
            <form class="load-form" on:submit=|ev| ev.prevent_default() data-testid="lt-form">
                <label class="wide">
                    "Prompt"
                    <textarea data-testid="lt-prompt" rows="2"
                        prop:value=move || form.with(|f| f.prompt.clone())
                        on:input=set(|f, v| f.prompt = v)
                        prop:disabled=running></textarea>
                    <FormError testid="lt-error-prompt" error=Signal::derive(field("prompt")) />
                </label>
                <label>
                    "Provider"
                    <input type="text" list="lt-providers" data-testid="lt-provider"
                        prop:value=move || form.with(|f| f.provider.clone())
                        on:input=set(|f, v| f.provider = v)
                        prop:disabled=running />
                    <datalist id="lt-providers">
                        {PROVIDERS.map(|(value, label)| view! { <option value=value>{label}</option> })}
                    </datalist>
                    <FormError testid="lt-error-provider" error=Signal::derive(field("provider")) />
                </label>
                <label>
                    "Model"
                    <input type="text" list="lt-models" data-testid="lt-model"
                        prop:value=move || form.with(|f| f.model.clone())
                        on:input=set(|f, v| f.model = v)
                        prop:disabled=running />
                    <datalist id="lt-models">
                        {move || form.with(|f| model_suggestions(&f.provider)).iter().map(|m| view! { <option value=*m></option> }).collect_view()}
                    </datalist>
                    <FormError testid="lt-error-model" error=Signal::derive(field("model")) />
                </label>
                <label title="Requests in flight at all times (closed loop): each ending request is replaced at once until the total is sent.">
                    "Concurrency"
                    <span class="range-pair">
                        <input type="range" min="1" max=MAX_CONCURRENCY data-testid="lt-concurrency-range" aria-label="Concurrency (slider)"
                            prop:value=move || form.with(|f| f.concurrency.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                if let Some(number) = concurrency_box.get_untracked() {
                                    number.set_value(&v);
                                }
                                form.update(|f| f.concurrency = v);
                            }
                            prop:disabled=running />
                        <input type="number" min="1" max=MAX_CONCURRENCY step="1" data-testid="lt-concurrency"
                            node_ref=concurrency_box
                            value=initial.concurrency
                            on:input=set(|f, v| f.concurrency = v)
                            prop:disabled=running />
                    </span>
                    <FormError testid="lt-error-concurrency" error=Signal::derive(field("concurrency")) />
                </label>
                <label>
                    "Total requests"
                    <input type="number" min="1" step="1" data-testid="lt-total"
                        value=initial.total
                        on:input=set(|f, v| f.total = v)
                        prop:disabled=running />
                    <FormError testid="lt-error-total" error=Signal::derive(field("total")) />
                </label>
                <label title="A request whose stream has not ended after this long is aborted and counted as a failure (timed out).">
                    "Timeout per request (s)"
                    <input type="number" min="1" step="1" data-testid="lt-timeout"
                        value=initial.timeout_s
                        on:input=set(|f, v| f.timeout_s = v)
                        prop:disabled=running />
                    <FormError testid="lt-error-timeout" error=Signal::derive(field("timeout")) />
                </label>
                <label class="switch wide" title="Sends X-User-ID: one user per worker, as many users would. Off: every request is the same user (the service queues a user's streams beyond its per-user limit).">
                    <input type="checkbox" data-testid="lt-user-per-worker"
                        prop:checked=move || form.with(|f| f.user_per_worker)
                        on:change=move |ev| form.update(|f| f.user_per_worker = event_target_checked(&ev))
                        prop:disabled=running />
                    "One user per worker (X-User-ID)"
                </label>
                <div class="load-actions wide">
                    <button type="button" data-testid="lt-start" on:click=start
                        prop:disabled=move || running() || problems.with(|p| !p.is_empty())>
                        "Start"
                    </button>
                    <button type="button" data-testid="lt-stop" class="secondary" on:click=stop
                        prop:disabled=move || !running()>
                        "Stop"
                    </button>
                    <span class="run-state" data-testid="lt-state" data-state=state>{state}</span>
                </div>
            </form>
            <Show when=capped>
                <p class="protocol-warning" role="status" data-testid="lt-protocol-warning">
                    {move || format!(
                        "The API is reached over {}: the browser sends at most {HTTP1_CONNECTIONS_PER_HOST} requests at a time to one host, so at concurrency {} the others wait inside the browser and their latency includes that wait{}. Open the dashboard over HTTPS (HTTP/2) for true concurrency (README: \"Why HTTP/2\").",
                        protocol().map_or_else(|| "HTTP/1.1 (or a protocol the browser does not report)".to_owned(), |p| p.to_uppercase()),
                        concurrency(),
                        results.with(|r| r.as_ref().and_then(|r| r.browser_queue.p50)).map(|q| format!(" (measured browser wait p50: {})", format::duration_ms(Some(q)))).unwrap_or_default(),
                    )}
                </p>
            </Show>

            <div class="live" data-testid="lt-live">
                <progress data-testid="lt-progress"
                    max=move || live.with(|l| l.as_ref().map_or(1, |l| l.planned).to_string())
                    value=move || live.with(|l| l.as_ref().map_or(0, |l| l.completed + l.failed + l.aborted).to_string())></progress>
                <dl class="summary counters">
                    {counter("lt-active", "Active", "Requests in flight now.", |l| l.active)}
                    {counter("lt-completed", "Completed", "Requests whose stream ended with `complete` or `[DONE]` and no error event.", |l| l.completed)}
                    {counter("lt-failed", "Failed", "Non-2xx answers, error events inside 200 streams, unreadable or cut streams, network errors and timeouts.", |l| l.failed)}
                    {counter("lt-aborted", "Aborted", "Requests stopped by Stop: neither completed nor failed.", |l| l.aborted)}
                    {counter("lt-tokens", "Output tokens", definition("tokens"), |l| l.tokens)}
                    <div title=definition("rps")>
                        <dt>"Requests/s"</dt>
                        <dd data-testid="lt-rps" data-value=move || live.with(|l| l.as_ref().and_then(|l| l.requests_per_s).map(|v| v.to_string()).unwrap_or_default())>
                            {move || format::rate(live.with(|l| l.as_ref().and_then(|l| l.requests_per_s)))}
                        </dd>
                    </div>
                    <div title=definition("tps")>
                        <dt>"Tokens/s"</dt>
                        <dd data-testid="lt-tps" data-value=move || live.with(|l| l.as_ref().and_then(|l| l.tokens_per_s).map(|v| v.to_string()).unwrap_or_default())>
                            {move || format::rate(live.with(|l| l.as_ref().and_then(|l| l.tokens_per_s)))}
                        </dd>
                    </div>
                    <div title="Wall time of the run so far.">
                        <dt>"Elapsed"</dt>
                        <dd data-testid="lt-elapsed" data-value=move || live.with(|l| l.as_ref().map(|l| l.elapsed_ms.to_string()).unwrap_or_default())>
                            {move || format::duration_ms(live.with(|l| l.as_ref().map(|l| l.elapsed_ms)))}
                        </dd>
                    </div>
                </dl>
                <figure class="chart-figure">
                    <div id=LATENCY_CHART class="chart" data-testid="lt-latency-chart" role="img"
                        aria-label="Line chart of E2E p50 and p95 and TTFT p50 per one-second window of the run"></div>
                    <figcaption>"Latency over the run, per 1 s window of request end times (a window's percentile is not the run's)."</figcaption>
                </figure>
            </div>

            <Show when=move || results.with(Option::is_some)>
                {move || results.get().map(|summary| view! { <Results summary exports /> })}
            </Show>
            <History history compare_a compare_b />
        </div>
    }
}

#[component]
fn FormError(testid: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <span class="field-error" role="alert" data-testid=testid hidden=move || error.with(Option::is_none)>
            {move || error.get()}
        </span>
    }
}

fn metric_rows(summary: &RunSummary) -> [(&'static str, &'static str, Summary); 5] {
    [
        ("e2e", "E2E latency", summary.e2e),
        ("ttft", "TTFT", summary.ttft),
        ("itl", "ITL", summary.itl),
        ("tpot", "TPOT", summary.tpot),
        ("queue", "Browser wait", summary.browser_queue),
    ]
}

#[component]
fn Results(summary: RunSummary, exports: RwSignal<Exports>) -> impl IntoView {
    let stats = ["p50", "p90", "p95", "p99", "min", "mean", "max"];
    let rows = metric_rows(&summary).map(|(id, label, m)| {
        let values = [m.p50, m.p90, m.p95, m.p99, m.min, m.mean, m.max];
        view! {
            <tr data-testid=format!("lt-{id}")>
                <th scope="row" title=definition(id)>{label}</th>
                {stats.iter().zip(values).map(|(stat, value)| view! {
                    <td data-testid=format!("lt-{id}-{stat}") data-value=value.map(|v| v.to_string()).unwrap_or_default()
                        title=definition(stat) class:absent=value.is_none()>
                        {format::duration_ms(value)}
                    </td>
                }).collect_view()}
                <td data-testid=format!("lt-{id}-count") data-value=m.count.to_string() title=definition("count")>{format::count(m.count)}</td>
            </tr>
        }
    });
    let failures = summary.failures.clone();
    let layers: Vec<(String, u64)> = summary.by_resilience_layer.clone().into_iter().collect();
    let protocols = summary
        .by_protocol
        .iter()
        .map(|(p, n)| format!("{p}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <section class="results" data-testid="lt-results" aria-label="Results">
            <h3>"Results" {summary.stopped.then_some(" (stopped early)")}</h3>
            <div class="table-scroll">
                <table class="stats-table">
                    <thead>
                        <tr>
                            <th scope="col">"Metric"</th>
                            {stats.map(|s| view! { <th scope="col" title=definition(s)>{s}</th> })}
                            <th scope="col" title=definition("count")>"count"</th>
                        </tr>
                    </thead>
                    <tbody>{rows.into_iter().collect_view()}</tbody>
                </table>
            </div>
            <dl class="summary">
                <div title="Requests answered from the service's cache (a chunk or `complete` marked cached).">
                    <dt>"Cache hits"</dt>
                    <dd data-testid="lt-cache-hits" data-value=summary.cache_hits.to_string()>{format::count(summary.cache_hits)}</dd>
                </div>
                {layers.into_iter().map(|(layer, n)| view! {
                    <div title="x-resilience-layer: 1-Direct = served at once; 3-Queue-Failover = waited in the service's queue; none = no answer headers.">
                        <dt>{format!("Layer {layer}")}</dt>
                        <dd data-testid=format!("lt-layer-{layer}") data-value=n.to_string()>{format::count(n)}</dd>
                    </div>
                }).collect_view()}
                <div title="The protocol of the requests, as the browser reports it (Resource Timing nextHopProtocol).">
                    <dt>"Protocol"</dt>
                    <dd data-testid="lt-protocol">{if protocols.is_empty() { format::ABSENT.to_owned() } else { protocols }}</dd>
                </div>
            </dl>
            <Show when={let none = failures.is_empty(); move || !none}>
                <table class="stats-table failures" data-testid="lt-failures">
                    <caption>"Failures by kind"</caption>
                    <thead><tr><th scope="col">"Kind"</th><th scope="col">"Status"</th><th scope="col">"Count"</th><th scope="col">"First message"</th></tr></thead>
                    <tbody>
                        {failures.clone().into_iter().map(|f| view! {
                            <tr data-testid="lt-failure" data-kind=f.kind.clone() data-status=f.status.map(|s| s.to_string()).unwrap_or_default() data-count=f.count.to_string()>
                                <th scope="row">{f.kind.clone()}</th>
                                <td>{f.status.map(|s| s.to_string()).unwrap_or_else(|| format::ABSENT.to_owned())}</td>
                                <td>{format::count(f.count)}</td>
                                <td class="message">{f.first_message.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </Show>
            <p class="export-links">
                {move || exports.with(|e| e.json.clone()).map(|url| view! {
                    <a data-testid="lt-export-json" href=url download=exports.with(|e| format!("{}.json", e.name))>"Export JSON"</a>
                })}
                {move || exports.with(|e| e.csv.clone()).map(|url| view! {
                    <a data-testid="lt-export-csv" href=url download=exports.with(|e| format!("{}.csv", e.name))>"Export CSV"</a>
                })}
            </p>
        </section>
    }
}

fn run_label(summary: &RunSummary) -> String {
    let when = js_sys::Date::new(&summary.started_at_ms.into())
        .to_locale_time_string("en-GB")
        .as_string()
        .unwrap_or_default();
    format!(
        "{when} · {} × {} · {}",
        summary.concurrency,
        summary.requests,
        summary.provider.as_deref().unwrap_or("default")
    )
}

#[component]
fn History(
    history: RwSignal<Vec<RunSummary>>,
    compare_a: RwSignal<Option<usize>>,
    compare_b: RwSignal<Option<usize>>,
) -> impl IntoView {
    let options = move || {
        history.with(|h| {
            h.iter()
                .enumerate()
                .map(|(i, r)| view! { <option value=i.to_string()>{run_label(r)}</option> })
                .collect_view()
        })
    };
    let pick = |target: RwSignal<Option<usize>>| {
        move |ev: leptos::ev::Event| target.set(event_target_value(&ev).parse().ok())
    };
    let comparison = move || {
        history.with(|h| {
            let a = h.get(compare_a.get().unwrap_or(1))?;
            let b = h.get(compare_b.get().unwrap_or(0))?;
            Some(compare(a, b))
        })
    };
    let cell = |v: Option<f64>, unit: &str| match unit {
        "ms" => format::duration_ms(v),
        "/s" => format::rate(v),
        _ => format::count_of(v),
    };
    view! {
        <details class="history" data-testid="lt-history" open=move || history.with(|h| h.len() >= 2)>
            <summary>{move || format!("Last runs ({}) and comparison", history.with(Vec::len))}</summary>
            <div class="compare-pickers">
                <label>"A " <select data-testid="lt-compare-a" on:change=pick(compare_a)
                    prop:value=move || compare_a.get().unwrap_or(1).to_string()>{options}</select></label>
                <label>"B " <select data-testid="lt-compare-b" on:change=pick(compare_b)
                    prop:value=move || compare_b.get().unwrap_or(0).to_string()>{options}</select></label>
            </div>
            {move || comparison().map(|rows| view! {
                <table class="stats-table" data-testid="lt-compare">
                    <thead><tr><th scope="col">"Figure"</th><th scope="col">"A"</th><th scope="col">"B"</th><th scope="col" title="(B − A) / A">"Change"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr data-testid="lt-compare-row" data-label=r.label>
                                <th scope="row">{r.label}</th>
                                <td data-value=r.a.map(|v| v.to_string()).unwrap_or_default()>{cell(r.a, r.unit)}</td>
                                <td data-value=r.b.map(|v| v.to_string()).unwrap_or_default()>{cell(r.b, r.unit)}</td>
                                <td>{r.change_percent.map_or_else(|| format::ABSENT.to_owned(), |c| format!("{c:+.1}%"))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <p class="hint">"Kept in this browser (localStorage), the last 10 runs. A is the older run by default."</p>
        </details>
    }
}
