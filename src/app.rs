//! The shell: header with the status indicator and settings, the notices, and
//! the panels (once the settings are known). Nothing imports it.

use leptos::either::EitherOf3;
use leptos::prelude::*;

use crate::cluster::{cluster_status_view, cluster_view};
use crate::load_tester::LoadTesterSlot;
use crate::monitoring::alerts::alerts_view;
use crate::monitoring::config::ConfigPanel;
use crate::monitoring::settings::{load_settings, SettingsMenu};
use crate::monitoring::stats::MetricsChart;
use crate::monitoring::status::StatusIndicator;
use crate::state::AppState;
use crate::ui::OnDemand;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::provide();
    load_settings(state);
    // Nothing polls before the settings are known; instances listed: cluster
    // mode, whose views are a part loaded on demand.
    let mode = Memo::new(move |_| match state.settings_loaded.get() {
        false => Mode::Loading,
        true if state.settings.with(|s| s.instances.is_empty()) => Mode::Single,
        true => Mode::Cluster,
    });
    // Views picked by `match` (an `EitherOf3`): smaller than nested <Show>s.
    let status = move || match mode.get() {
        Mode::Loading => EitherOf3::A(StatusBeforeSettings()),
        Mode::Single => EitherOf3::B(StatusIndicator()),
        Mode::Cluster => EitherOf3::C(
            view! { <OnDemand load=cluster_status_view testid="cluster-status-error" /> },
        ),
    };
    let panels = move || match mode.get() {
        Mode::Loading => EitherOf3::A(()),
        Mode::Single => EitherOf3::B(view! {
            <MetricsChart />
            <LoadTesterSlot />
            <ConfigPanel />
        }),
        Mode::Cluster => EitherOf3::C(view! {
            <OnDemand load=cluster_view testid="cluster-error" />
            <LoadTesterSlot />
        }),
    };
    // The alerts are a part of their own, fetched only when a Prometheus
    // server is named; alerts of a server no longer named are forgotten.
    let has_prometheus = Memo::new(move |_| state.prometheus.with(Option::is_some));
    Effect::new(move |_| {
        if !has_prometheus.get() {
            state.alerts.set(None);
        }
    });
    let alerts = move || {
        has_prometheus
            .get()
            .then(|| view! { <OnDemand load=alerts_view testid="alerts-error" /> })
    };
    view! {
        <header class="app-header" data-testid="app-header">
            <h1>"SSE Performance Dashboard"</h1>
            <div class="header-tools">{status} {alerts} <SettingsMenu /></div>
        </header>
        <ul
            class="notices"
            role="status"
            data-testid="notices"
            hidden=move || state.notices.with(Vec::is_empty)
        >
            <For each=move || state.notices.get() key=|n| n.clone() let(notice)>
                <li>{notice}</li>
            </For>
        </ul>
        <main class="app-main">{panels}</main>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Loading,
    Single,
    Cluster,
}

/// The indicator while config.json and the saved settings are read (no check yet).
#[component]
fn StatusBeforeSettings() -> impl IntoView {
    view! {
        <div
            class="status-indicator"
            data-testid="status-indicator"
            data-state="checking"
            role="status"
        >
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">"Checking"</span>
        </div>
    }
}
