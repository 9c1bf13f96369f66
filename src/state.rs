//! The dashboard's shared state: the settings in effect and what is derived
//! from them. Created and provided once (by the shell, or by the on-demand
//! module's `mount`) and read with [`AppState::get`]: a component mounted
//! without it is a programming error, never a silent second state.

use leptos::prelude::*;
use sse_core::contract::dashboard_settings::DashboardSettings;

use crate::api::ApiClient;

/// Settings in effect, shared by every component.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub settings: RwSignal<DashboardSettings>,
    pub api: Memo<ApiClient>,
    /// Increases each time the service becomes reachable (first time included).
    pub connections: RwSignal<u64>,
    /// Problems with config.json or stored settings, shown under the header.
    pub notices: RwSignal<Vec<String>>,
    /// Whether config.json and this browser's saved settings have been read:
    /// nothing polls before, so that no request goes out with defaults.
    pub settings_loaded: RwSignal<bool>,
}

impl AppState {
    /// Creates the state and provides it to everything mounted below.
    pub fn provide() -> Self {
        let settings = RwSignal::new(DashboardSettings::default());
        let state = Self {
            settings,
            api: Memo::new(move |_| settings.with(ApiClient::from_settings)),
            connections: RwSignal::new(0),
            notices: RwSignal::new(Vec::new()),
            settings_loaded: RwSignal::new(false),
        };
        provide_context(state);
        state
    }

    /// The state provided by [`AppState::provide`].
    pub fn get() -> Self {
        expect_context::<Self>()
    }
}
