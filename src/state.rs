//! The dashboard's shared state: the settings in effect and what is derived
//! from them. Created and provided once, by the shell, and read with
//! [`AppState::get`] by every part, those loaded on demand included: a
//! component mounted without it is a programming error, never a silent second
//! state.

use leptos::prelude::*;
use sse_core::contract::dashboard_settings::DashboardSettings;

use sse_core::monitoring::prometheus_api::{critical_reason, Alert};

use crate::api::prometheus::PromClient;
use crate::api::ApiClient;

/// A load run's window on the wall clock (ms since the epoch), for the
/// Prometheus server's time axis; `end_ms` is `None` while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunWindow {
    pub start_ms: f64,
    pub end_ms: Option<f64>,
    /// "browser run at 10:42:07", "sse-load report run.json".
    pub label: String,
}

/// Settings in effect, shared by every component.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub settings: RwSignal<DashboardSettings>,
    pub api: Memo<ApiClient>,
    /// The Prometheus server that scrapes the service, when the settings name one.
    pub prometheus: Memo<Option<PromClient>>,
    /// Its firing and pending alerts (`None` before the first answer, or
    /// without a server; the error of the last poll when it failed).
    pub alerts: RwSignal<Option<Result<Vec<Alert>, String>>>,
    /// The load runs of this page (and imported reports), newest last.
    pub run_windows: RwSignal<Vec<RunWindow>>,
    /// Increases each time the service becomes reachable (first time included).
    pub connections: RwSignal<u64>,
    /// Problems with config.json or stored settings, shown under the header.
    pub notices: RwSignal<Vec<String>>,
    /// Whether config.json and this browser's saved settings have been read:
    /// nothing polls before, so that no request goes out with defaults.
    pub settings_loaded: RwSignal<bool>,
    /// While a load test runs: its interval between statistics polls (ms),
    /// which the statistics panels follow when it is shorter than theirs.
    pub run_stats_poll_ms: RwSignal<Option<u32>>,
}

impl AppState {
    /// Creates the state and provides it to everything mounted below.
    pub fn provide() -> Self {
        let settings = RwSignal::new(DashboardSettings::default());
        let state = Self {
            settings,
            api: Memo::new(move |_| settings.with(ApiClient::from_settings)),
            prometheus: Memo::new(move |_| settings.with(PromClient::from_settings)),
            alerts: RwSignal::new(None),
            run_windows: RwSignal::new(Vec::new()),
            connections: RwSignal::new(0),
            notices: RwSignal::new(Vec::new()),
            settings_loaded: RwSignal::new(false),
            run_stats_poll_ms: RwSignal::new(None),
        };
        provide_context(state);
        state
    }

    /// The state provided by [`AppState::provide`].
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Why the Prometheus server's alerts degrade the service: its firing
    /// critical alerts, said (tracked; `None` without any).
    pub fn critical_alerts(&self) -> Option<String> {
        self.alerts.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|a| critical_reason(a))
        })
    }

    /// A statistics panel's poll interval (ms): the setting, or a running
    /// load test's when that is shorter (never under 1 s).
    pub fn stats_poll_ms(&self) -> u32 {
        let setting = self.settings.with_untracked(|s| s.stats_poll_ms);
        self.run_stats_poll_ms
            .get_untracked()
            .map_or(setting, |run| run.clamp(1_000, setting.max(1_000)))
    }
}
