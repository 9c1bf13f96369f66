//! The dashboard's own settings: read at start (config.json, then what this
//! browser kept), and changed by the person in the Settings menu.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::dashboard_settings::{
    instances_from_json, validate_admin_token, validate_api_base, validate_prometheus_base,
    validate_prometheus_job,
};

use crate::api::load_runtime_settings;
use crate::browser::storage;
use crate::cluster::instances_editor_view;
use crate::state::AppState;
use crate::ui::OnDemand;

const STORED_API_BASE: &str = "dashboard.api_base";
const STORED_ADMIN_TOKEN: &str = "dashboard.admin_token";
/// The Prometheus server (its base; "" = none, whatever config.json says) and its job.
const STORED_PROMETHEUS: &str = "dashboard.prometheus";
const STORED_PROMETHEUS_JOB: &str = "dashboard.prometheus_job";
/// The instances entered in Settings (config.json's JSON form); the
/// instances editor writes it.
pub const STORED_INSTANCES: &str = "dashboard.instances";

/// config.json first, then what the person saved in this browser.
pub fn load_settings(state: AppState) {
    spawn_local(async move {
        let (mut settings, mut notices) = load_runtime_settings().await;
        if let Some(base) = storage::read(STORED_API_BASE) {
            match validate_api_base(&base) {
                Ok(base) => settings.api_base = base,
                Err(message) => notices.push(format!("Saved API base ignored: {message}")),
            }
        }
        if let Some(token) = storage::read(STORED_ADMIN_TOKEN) {
            match validate_admin_token(&token) {
                Ok(token) if !token.is_empty() => settings.admin_token = Some(token),
                Ok(_) => {}
                Err(message) => notices.push(format!(
                    "Saved admin token not used: {message} Enter it again in Settings."
                )),
            }
        }
        if let Some(base) = storage::read(STORED_PROMETHEUS) {
            if base.trim().is_empty() {
                settings.prometheus = None;
            } else {
                match validate_prometheus_base(&base) {
                    Ok(base) => settings.prometheus = Some(base),
                    Err(message) => {
                        notices.push(format!("Saved Prometheus server ignored: {message}"))
                    }
                }
            }
        }
        if let Some(job) = storage::read(STORED_PROMETHEUS_JOB) {
            match validate_prometheus_job(&job) {
                Ok(job) => settings.prometheus_job = job,
                Err(message) => notices.push(format!("Saved Prometheus job ignored: {message}")),
            }
        }
        if let Some(text) = storage::read(STORED_INSTANCES) {
            let stored = serde_json::from_str(&text).map_err(|e| e.to_string());
            match stored.and_then(|v| instances_from_json(&v)) {
                Ok(list) => settings.instances = list,
                Err(message) => notices.push(format!("Saved instances ignored: {message}")),
            }
        }
        state.settings.set(settings);
        state.notices.set(notices);
        state.settings_loaded.set(true);
    });
}

/// What the Settings form holds while it is open.
#[derive(Clone, Copy)]
struct SettingsInputs {
    base: RwSignal<String>,
    token: RwSignal<String>,
    prometheus: RwSignal<String>,
    job: RwSignal<String>,
}

impl SettingsInputs {
    fn new() -> Self {
        Self {
            base: RwSignal::new(String::new()),
            token: RwSignal::new(String::new()),
            prometheus: RwSignal::new(String::new()),
            job: RwSignal::new(String::new()),
        }
    }

    fn fill(self, state: AppState) {
        state.settings.with_untracked(|s| {
            self.base.set(s.api_base.clone());
            self.token.set(s.admin_token.clone().unwrap_or_default());
            self.prometheus
                .set(s.prometheus.clone().unwrap_or_default());
            self.job.set(s.prometheus_job.clone());
        });
    }

    /// Checks every field, then applies and keeps them all, or none: what
    /// the person reads says which.
    fn save(self, state: AppState) -> String {
        let prometheus = self.prometheus.get_untracked();
        let checked = validate_api_base(&self.base.get_untracked()).and_then(|base| {
            let token = validate_admin_token(&self.token.get_untracked())?;
            let prometheus = match prometheus.trim() {
                "" => None,
                text => Some(validate_prometheus_base(text)?),
            };
            let job = validate_prometheus_job(&self.job.get_untracked())?;
            Ok((base, token, prometheus, job))
        });
        let (base, token, prometheus, job) = match checked {
            Ok(checked) => checked,
            Err(problem) => return format!("Not saved. {problem}"),
        };
        let kept = storage::write(STORED_API_BASE, Some(&base))
            .and_then(|()| {
                storage::write(
                    STORED_ADMIN_TOKEN,
                    (!token.is_empty()).then_some(token.as_str()),
                )
            })
            .and_then(|()| {
                storage::write(STORED_PROMETHEUS, Some(prometheus.as_deref().unwrap_or("")))
            })
            .and_then(|()| storage::write(STORED_PROMETHEUS_JOB, Some(&job)));
        state.settings.update(|s| {
            s.api_base = base.clone();
            s.admin_token = (!token.is_empty()).then_some(token);
            s.prometheus = prometheus;
            s.prometheus_job = job;
        });
        match kept {
            Ok(()) => format!("Saved: the dashboard now talks to {base}."),
            Err(why) => format!(
                "In use until this page is closed: the dashboard now talks to {base}. Not kept in this browser: {why}."
            ),
        }
    }
}

/// Forgets what this browser kept and reads config.json again.
fn reset_settings(state: AppState) {
    for key in [
        STORED_API_BASE,
        STORED_ADMIN_TOKEN,
        STORED_INSTANCES,
        STORED_PROMETHEUS,
        STORED_PROMETHEUS_JOB,
    ] {
        let _ = storage::write(key, None);
    }
    load_settings(state);
}

/// One text field of the form.
#[component]
fn SettingField(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                type=kind
                autocomplete="off"
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                placeholder=placeholder
            />
        </label>
    }
}

/// API base, admin token, the Prometheus server and the instances, kept in this browser.
#[component]
pub fn SettingsMenu() -> impl IntoView {
    let state = AppState::get();
    let inputs = SettingsInputs::new();
    let message = RwSignal::new(None::<String>);
    let open = move |_| {
        inputs.fill(state);
        message.set(None);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(Some(inputs.save(state)));
    };
    // The editor is a part loaded on demand; it saves and reloads the page.
    let editing_instances = RwSignal::new(false);
    let instances_editor = move || {
        editing_instances.get().then(|| {
            let load = move || {
                instances_editor_view(state.settings.with_untracked(|s| s.instances.clone()))
            };
            view! { <OnDemand load testid="settings-instances-error" /> }
        })
    };
    let reset = move |_| {
        message.set(Some(
            "Saved settings removed; reloading config.json.".into(),
        ));
        reset_settings(state);
    };
    view! {
        <details class="settings" data-testid="settings" on:toggle=open>
            <summary>"Settings"</summary>
            <form class="settings-form" on:submit=save>
                <SettingField
                    label="API base"
                    testid="settings-api-base"
                    value=inputs.base
                    placeholder="/api/v1"
                />
                <SettingField
                    label="Admin token (sent as Bearer on /admin requests; visible ASCII only)"
                    testid="settings-admin-token"
                    value=inputs.token
                    kind="password"
                />
                <SettingField
                    label="Prometheus server (path or URL; empty: none; it never gets the admin token)"
                    testid="settings-prometheus"
                    value=inputs.prometheus
                    placeholder="/prometheus"
                />
                <SettingField
                    label="Its job label for the service (empty: every series)"
                    testid="settings-prometheus-job"
                    value=inputs.job
                    placeholder="sse-app"
                />
                <p>
                    "Several instances behind a balancer: "
                    <button
                        type="button"
                        data-testid="settings-instances-edit"
                        on:click=move |_| editing_instances.set(true)
                    >
                        "Instances…"
                    </button>
                </p>
                {instances_editor}
                <div class="settings-actions">
                    <button type="submit" data-testid="settings-save">
                        "Save"
                    </button>
                    <button type="button" on:click=reset>
                        "Reset to defaults"
                    </button>
                </div>
                <p class="settings-message" role="status" data-testid="settings-message">
                    {move || message.get()}
                </p>
                <p class="settings-current">
                    "In use: " <code>{move || state.api.with(|a| a.base().to_owned())}</code>
                </p>
            </form>
        </details>
    }
}
