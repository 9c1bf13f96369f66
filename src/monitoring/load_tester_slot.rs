//! The load tester's place on the dashboard. Its code is a module of its own
//! (`src/bin/load_tester.rs`), loaded when the person opens it, so that the
//! monitoring panels' first load stays small. The module is reached through a
//! typed boundary ([`LoadTesterModule`]): the compiler checks every call.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::dashboard_settings::DashboardSettings;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser::js_error;
use crate::state::AppState;
use crate::ui::Panel;

/// The module's files as trunk writes them (not content-hashed: see nginx.conf).
const MODULE_JS: &str = "load_tester.js";
const MOUNT_POINT: &str = "load-tester-root";

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn import_module(url: &str) -> Result<js_sys::Promise, JsValue>;

    /// The on-demand module's exports (see `src/bin/load_tester.rs`).
    type LoadTesterModule;

    /// wasm-bindgen's initialiser: fetches and starts the module's WASM.
    #[wasm_bindgen(method, catch, js_name = default)]
    fn init(this: &LoadTesterModule) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn mount(
        this: &LoadTesterModule,
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn set_api(
        this: &LoadTesterModule,
        api_base: String,
        admin_token: Option<String>,
    ) -> Result<(), JsValue>;
}

/// Loads the module, starts it and mounts the load tester.
async fn load(settings: DashboardSettings) -> Result<LoadTesterModule, String> {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or("the page has no base URL")?;
    let url = web_sys::Url::new_with_base(MODULE_JS, &base)
        .map_err(|e| js_error::describe(&e))?
        .href();
    let loading = import_module(&url).map_err(|e| js_error::describe(&e))?;
    let module: LoadTesterModule = JsFuture::from(loading)
        .await
        .map_err(|e| format!("cannot load {MODULE_JS}: {}", js_error::describe(&e)))?
        .unchecked_into();
    let started = module.init().map_err(|e| js_error::describe(&e))?;
    JsFuture::from(started)
        .await
        .map_err(|e| format!("cannot start the load tester: {}", js_error::describe(&e)))?;
    module
        .mount(MOUNT_POINT, settings.api_base, settings.admin_token)
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
    let module = StoredValue::new_local(None::<LoadTesterModule>);
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
                let pushed = m.set_api(settings.api_base.clone(), settings.admin_token.clone());
                push_error.set(pushed.err().map(|e| {
                    format!(
                        "The load tester did not take the new settings: {}",
                        js_error::describe(&e)
                    )
                }));
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
            <p
                class="field-error"
                role="alert"
                data-testid="lt-load-error"
                hidden=move || failure().is_none()
            >
                {failure}
            </p>
            <div id=MOUNT_POINT></div>
        </Panel>
    }
}
