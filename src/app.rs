//! The app shell: header with the status indicator and settings, and the panels.
//! Shared state goes through context: the API client, the dashboard settings,
//! and a counter of (re)connections that panels watch to reload.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::dashboard_settings::{validate_admin_token, validate_api_base, DashboardSettings};

use crate::api::{load_runtime_settings, ApiClient};
use crate::config_panel::ConfigPanel;
use crate::load_tester_slot::LoadTesterSlot;
use crate::metrics_chart::MetricsChart;
use crate::status_indicator::StatusIndicator;

/// Settings in effect, shared by every component.
#[derive(Debug, Clone, Copy)]
pub struct Shared {
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

impl Shared {
    pub fn new() -> Self {
        let settings = RwSignal::new(DashboardSettings::default());
        Self {
            settings,
            api: Memo::new(move |_| settings.with(ApiClient::from_settings)),
            connections: RwSignal::new(0),
            notices: RwSignal::new(Vec::new()),
            settings_loaded: RwSignal::new(false),
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

/// The shared state, or a fresh default (components mounted alone in tests).
pub fn shared() -> Shared {
    use_context::<Shared>().unwrap_or_default()
}

const STORED_API_BASE: &str = "dashboard.api_base";
const STORED_ADMIN_TOKEN: &str = "dashboard.admin_token";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn stored(key: &str) -> Option<String> {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .filter(|v| !v.is_empty())
}

fn store(key: &str, value: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match value {
            Some(value) => storage.set_item(key, value),
            None => storage.remove_item(key),
        };
    }
}

/// config.json first, then what the person saved in this browser.
fn load_settings(shared: Shared) {
    spawn_local(async move {
        let (mut settings, mut notices) = load_runtime_settings().await;
        if let Some(base) = stored(STORED_API_BASE) {
            match validate_api_base(&base) {
                Ok(base) => settings.api_base = base,
                Err(message) => notices.push(format!("Saved API base ignored: {message}")),
            }
        }
        if let Some(token) = stored(STORED_ADMIN_TOKEN) {
            match validate_admin_token(&token) {
                Ok(token) if !token.is_empty() => settings.admin_token = Some(token),
                Ok(_) => {}
                Err(message) => notices.push(format!(
                    "Saved admin token not used: {message} Enter it again in Settings."
                )),
            }
        }
        shared.settings.set(settings);
        shared.notices.set(notices);
        shared.settings_loaded.set(true);
    });
}

#[component]
pub fn App() -> impl IntoView {
    let shared = Shared::new();
    provide_context(shared);
    load_settings(shared);
    view! {
        <header class="app-header" data-testid="app-header">
            <h1>"SSE Performance Dashboard"</h1>
            <div class="header-tools">
                <Show when=move || shared.settings_loaded.get() fallback=StatusBeforeSettings>
                    <StatusIndicator />
                </Show>
                <SettingsMenu />
            </div>
        </header>
        <Show when=move || !shared.notices.with(Vec::is_empty)>
            <ul class="notices" role="status" data-testid="notices">
                <For each=move || shared.notices.get() key=|n| n.clone() let(notice)>
                    <li>{notice}</li>
                </For>
            </ul>
        </Show>
        <main class="app-main">
            // The panels start polling once the settings are known.
            <Show when=move || shared.settings_loaded.get()>
                <MetricsChart />
                <LoadTesterSlot />
                <ConfigPanel />
            </Show>
        </main>
    }
}

/// The indicator while config.json and the saved settings are read (no check yet).
#[component]
fn StatusBeforeSettings() -> impl IntoView {
    view! {
        <div class="status-indicator" data-testid="status-indicator" data-state="checking" role="status">
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">"Checking"</span>
        </div>
    }
}

/// API base and admin token, kept in this browser.
#[component]
fn SettingsMenu() -> impl IntoView {
    let shared = shared();
    let base_input = RwSignal::new(String::new());
    let token_input = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let open = move |_| {
        shared.settings.with_untracked(|s| {
            base_input.set(s.api_base.clone());
            token_input.set(s.admin_token.clone().unwrap_or_default());
        });
        message.set(None);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checked = validate_api_base(&base_input.get_untracked())
            .and_then(|base| Ok((base, validate_admin_token(&token_input.get_untracked())?)));
        match checked {
            // Nothing is saved: the settings in use stay as they were.
            Err(problem) => message.set(Some(format!("Not saved. {problem}"))),
            Ok((base, token)) => {
                store(STORED_API_BASE, Some(&base));
                store(
                    STORED_ADMIN_TOKEN,
                    (!token.is_empty()).then_some(token.as_str()),
                );
                shared.settings.update(|s| {
                    s.api_base = base.clone();
                    s.admin_token = (!token.is_empty()).then_some(token);
                });
                message.set(Some(format!("Saved: the dashboard now talks to {base}.")));
            }
        }
    };
    let reset = move |_| {
        store(STORED_API_BASE, None);
        store(STORED_ADMIN_TOKEN, None);
        message.set(Some(
            "Saved settings removed; reloading config.json.".into(),
        ));
        load_settings(shared);
    };
    view! {
        <details class="settings" data-testid="settings" on:toggle=open>
            <summary>"Settings"</summary>
            <form class="settings-form" on:submit=save>
                <label>
                    "API base"
                    <input
                        type="text"
                        data-testid="settings-api-base"
                        prop:value=move || base_input.get()
                        on:input=move |ev| base_input.set(event_target_value(&ev))
                        placeholder="/api/v1"
                    />
                </label>
                <label>
                    "Admin token (sent as Bearer on /admin requests; visible ASCII only)"
                    <input
                        type="password"
                        autocomplete="off"
                        data-testid="settings-admin-token"
                        prop:value=move || token_input.get()
                        on:input=move |ev| token_input.set(event_target_value(&ev))
                    />
                </label>
                <div class="settings-actions">
                    <button type="submit" data-testid="settings-save">"Save"</button>
                    <button type="button" on:click=reset>"Reset to defaults"</button>
                </div>
                <p class="settings-message" role="status" data-testid="settings-message">{move || message.get()}</p>
                <p class="settings-current">
                    "In use: " <code>{move || shared.api.with(|a| a.base().to_owned())}</code>
                </p>
            </form>
        </details>
    }
}
