//! The load tester: its place on the dashboard ([`LoadTesterSlot`], first
//! load) and the tester itself, a part loaded on demand
//! ([`load_tester_view`]): the form, the live view of a run (once per
//! animation frame, never per chunk), the results, exports, and the last runs
//! side by side. Validation, statistics and exports are computed in the core
//! crate.

mod capacity;
mod engine;
mod exports;
mod form;
mod history;
mod import;
mod live;
mod results;
mod run;
mod saved;
mod server_window;
mod slot;
mod time_view;
mod warning;

pub use slot::LoadTesterSlot;

use leptos::either::Either;
use leptos::prelude::*;
use sse_core::load::plan::{browser_caps_concurrency, FormProblem, LoadForm};
use sse_core::load::report::{history_from_json, RunSummary};

use crate::api::ApiClient;
use crate::browser::storage;
use crate::charts::DrawnChart;
use crate::state::AppState;
use engine::{Phase, SharedRun};
use exports::Exports;
use live::Live;

const HISTORY_KEY: &str = "dashboard.load_runs";
/// The load tester's styles, shipped with its part (the first load's
/// stylesheet does not carry them).
const STYLE: &str = include_str!("../../style/load_tester.css");

/// What the load tester's parts share.
#[derive(Clone, Copy)]
struct TesterState {
    app: AppState,
    api: Memo<ApiClient>,
    form: RwSignal<LoadForm>,
    problems: Memo<Vec<FormProblem>>,
    run: StoredValue<Option<SharedRun>, LocalStorage>,
    live: RwSignal<Option<Live>>,
    results: RwSignal<Option<RunSummary>>,
    exports: RwSignal<Exports>,
    history: RwSignal<Vec<RunSummary>>,
    chart: StoredValue<Option<DrawnChart>, LocalStorage>,
    sweep_chart: StoredValue<Option<DrawnChart>, LocalStorage>,
    stage_chart: StoredValue<Option<DrawnChart>, LocalStorage>,
    /// Each stage's mean between two statistics polls of the run.
    stage_history: StoredValue<sse_core::monitoring::stats_view::PollHistory>,
    /// Bumped to rebuild the form from `form` (a saved run is run again).
    form_generation: RwSignal<u64>,
    /// What the browser said about the API's protocol, checked now and then.
    detected_protocol: RwSignal<Option<String>>,
    /// Where the time of the run's requests went.
    time: RwSignal<Option<time_view::TimeView>>,
    /// The request whose waterfall was asked for, and the number typed to ask.
    picked: RwSignal<Option<u64>>,
    pick_text: RwSignal<String>,
}

impl TesterState {
    fn new(app: AppState) -> Self {
        let form = RwSignal::new(LoadForm::default());
        Self {
            app,
            api: app.api,
            form,
            problems: Memo::new(move |_| form.with(|f| f.plan().err().unwrap_or_default())),
            run: StoredValue::new_local(None),
            live: RwSignal::new(None),
            results: RwSignal::new(None),
            exports: RwSignal::new(Exports::default()),
            history: RwSignal::new(history_from_json(storage::read(HISTORY_KEY).as_deref())),
            chart: StoredValue::new_local(None),
            sweep_chart: StoredValue::new_local(None),
            stage_chart: StoredValue::new_local(None),
            stage_history: StoredValue::new(Default::default()),
            form_generation: RwSignal::new(0),
            detected_protocol: RwSignal::new(None),
            time: RwSignal::new(None),
            picked: RwSignal::new(None),
            pick_text: RwSignal::new(String::new()),
        }
    }

    fn running(self) -> bool {
        self.live.with(|l| {
            l.as_ref()
                .is_some_and(|l| matches!(l.phase, Phase::Running | Phase::Stopping))
        })
    }

    fn protocol(self) -> Option<String> {
        self.live
            .with(|l| l.as_ref().and_then(|l| l.protocol.clone()))
            .or_else(|| self.detected_protocol.get())
    }

    /// Requests the run may have in flight: the concurrency (the highest
    /// step's in a closed sweep) or, in an open loop, the cap.
    fn concurrency(self) -> u32 {
        self.form.with(|f| {
            let number = |text: &str| text.trim().parse::<u32>().ok();
            if f.mode != "closed" {
                return number(&f.max_in_flight).unwrap_or(1);
            }
            let steps = f.sweep_steps.split([',', ' ']).filter_map(number).max();
            steps.or_else(|| number(&f.concurrency)).unwrap_or(1)
        })
    }

    /// Whether HTTP/1.1 holds requests back in the browser at this concurrency.
    fn capped(self) -> bool {
        browser_caps_concurrency(self.protocol().as_deref(), self.concurrency())
    }
}

crate::on_demand! {
    /// The load tester, fetched the first time the person opens it.
    load_tester, "load tester":
    pub fn load_tester_view() -> AnyView {
        view! { <LoadTester /> }.into_any()
    }
}

#[component]
fn LoadTester() -> impl IntoView {
    let app = AppState::get();
    let state = TesterState::new(app);
    // A run's statistics interval goes with the tester.
    on_cleanup(move || app.run_stats_poll_ms.set(None));
    let detect = move || {
        let protocol = engine::known_protocol(&state.api.get_untracked());
        state.detected_protocol.set(protocol);
    };
    detect();
    let detector =
        send_wrapper::SendWrapper::new(gloo_timers::callback::Interval::new(2_000, detect));
    on_cleanup(move || {
        detector.take().cancel();
    });
    view! {
        <div class="load-tester">
            <style>{STYLE}</style>
            // A new generation (a saved run's plan) builds the form anew: the
            // boxes take their values when built, never while typing.
            {move || {
                let form = view! { <form::LoadFormView state /> };
                if state.form_generation.get().is_multiple_of(2) {
                    Either::Left(form)
                } else {
                    Either::Right(form)
                }
            }}
            <warning::ProtocolWarning state />
            <live::LiveView state />
            <Show when=move || {
                state.results.with(Option::is_some)
            }>
                {move || {
                    state
                        .results
                        .get()
                        .map(|summary| view! { <results::Results summary exports=state.exports /> })
                }}
            </Show>
            <time_view::TimeSection state />
            <history::History state />
        </div>
    }
}
