//! The shell: header with the status indicator and settings, the notices, and
//! the panels (once the settings are known). Nothing imports it.

use leptos::prelude::*;

use crate::monitoring::cluster_slot::{ClusterSlot, ClusterStatusSlot};
use crate::monitoring::config::ConfigPanel;
use crate::monitoring::load_tester_slot::LoadTesterSlot;
use crate::monitoring::settings::{load_settings, SettingsMenu};
use crate::monitoring::stats::MetricsChart;
use crate::monitoring::status::StatusIndicator;
use crate::state::AppState;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::provide();
    load_settings(state);
    // Instances listed: cluster mode (its views come from the on-demand module).
    let cluster = Memo::new(move |_| state.settings.with(|s| !s.instances.is_empty()));
    view! {
        <header class="app-header" data-testid="app-header">
            <h1>"SSE Performance Dashboard"</h1>
            <div class="header-tools">
                <Show when=move || state.settings_loaded.get() fallback=StatusBeforeSettings>
                    <Show when=move || !cluster.get() fallback=ClusterStatusSlot>
                        <StatusIndicator />
                    </Show>
                </Show>
                <SettingsMenu />
            </div>
        </header>
        <Show when=move || !state.notices.with(Vec::is_empty)>
            <ul class="notices" role="status" data-testid="notices">
                <For each=move || state.notices.get() key=|n| n.clone() let(notice)>
                    <li>{notice}</li>
                </For>
            </ul>
        </Show>
        <main class="app-main">
            // The panels start polling once the settings are known.
            <Show when=move || state.settings_loaded.get()>
                <Show when=move || !cluster.get() fallback=ClusterSlot>
                    <MetricsChart />
                </Show>
                <LoadTesterSlot />
                <Show when=move || !cluster.get()>
                    <ConfigPanel />
                </Show>
            </Show>
        </main>
    }
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
