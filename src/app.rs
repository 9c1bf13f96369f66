//! The app shell: header with the status indicator, and the component areas.

use leptos::prelude::*;

use crate::api::ApiClient;
use crate::config_panel::ConfigPanel;
use crate::load_tester::LoadTester;
use crate::metrics_chart::MetricsChart;
use crate::status_indicator::StatusIndicator;

#[component]
pub fn App() -> impl IntoView {
    provide_context(ApiClient::default());
    view! {
        <header class="app-header" data-testid="app-header">
            <h1>"SSE Performance Dashboard"</h1>
            <StatusIndicator />
        </header>
        <main class="app-main">
            <MetricsChart />
            <ConfigPanel />
            <LoadTester />
        </main>
    }
}
