//! The load tester's place on the dashboard. Its code is in the on-demand
//! module ([`on_demand`]), loaded when the person opens it, so that the
//! monitoring panels' first load stays small.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::dashboard_settings::DashboardSettings;

use super::on_demand::{self, OnDemandModule};
use crate::browser::js_error;
use crate::state::AppState;
use crate::ui::{FieldError, Panel};

const MOUNT_POINT: &str = "load-tester-root";

/// Loads the module, starts it and mounts the load tester.
async fn load(settings: DashboardSettings) -> Result<OnDemandModule, String> {
    let module = on_demand::load().await?;
    module
        .mount(
            MOUNT_POINT,
            settings.api_base,
            settings.admin_token,
            sse_core::contract::instances::list_text(&settings.instances),
        )
        .map_err(|e| format!("cannot show the load tester: {}", js_error::describe(&e)))?;
    Ok(module)
}

#[derive(Debug, Clone, PartialEq)]
enum SlotState {
    Closed,
    Loading,
    Open,
    Failed(String),
}

impl SlotState {
    fn word(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Loading => "loading",
            Self::Open => "open",
            Self::Failed(_) => "failed",
        }
    }
}

#[component]
pub fn LoadTesterSlot() -> impl IntoView {
    let app = AppState::get();
    let state = RwSignal::new(SlotState::Closed);
    let module = StoredValue::new_local(None::<OnDemandModule>);
    let push_error = RwSignal::new(None::<String>);
    let open = move |_| {
        if matches!(state.get_untracked(), SlotState::Loading | SlotState::Open) {
            return;
        }
        state.set(SlotState::Loading);
        let settings = app.settings.get_untracked();
        spawn_local(async move {
            match load(settings).await {
                Ok(loaded) => {
                    module.set_value(Some(loaded));
                    state.set(SlotState::Open);
                }
                Err(error) => state.set(SlotState::Failed(error)),
            }
        });
    };
    // Settings changed in the header reach the load tester; a failure is said.
    Effect::new(move |_| {
        let settings = app.settings.get();
        module.with_value(|m| {
            if let Some(m) = m {
                push_error.set(on_demand::push_settings(m, &settings));
            }
        });
    });
    let loading = move || state.with(|s| *s == SlotState::Loading);
    let failure = move || match state.get() {
        SlotState::Failed(e) => Some(e),
        _ => push_error.get(),
    };
    view! {
        <Panel testid="load-tester" title="Load tester">
            <div
                class="load-tester-intro"
                data-testid="lt-slot"
                data-state=move || state.with(SlotState::word)
                hidden=move || state.with(|s| *s == SlotState::Open)
            >
                <p class="panel-note">
                    "Concurrent POST /stream requests from this browser, each read as a stream: live counts, tokens, "
                    "and TTFT, ITL, TPOT and E2E percentiles. Its code loads when you open it, so that the "
                    "monitoring above does not wait for it."
                </p>
                <button
                    type="button"
                    class="primary"
                    data-testid="lt-open"
                    on:click=open
                    prop:disabled=loading
                >
                    {move || if loading() { "Loading…" } else { "Open the load tester" }}
                </button>
            </div>
            <FieldError testid="lt-load-error".to_owned() error=Signal::derive(failure) />
            <div id=MOUNT_POINT></div>
        </Panel>
    }
}
