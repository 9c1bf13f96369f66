//! The load tester's place on the dashboard. Its code is a module of its own
//! (`src/bin/load_tester.rs`), loaded when the person opens it, so that the
//! monitoring panels' first load stays small; the panel says so and offers
//! the button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::describe_js_error;
use crate::app::shared;
use crate::panel::Panel;

/// The module's files as trunk writes them (not content-hashed: see nginx.conf).
const MODULE_JS: &str = "load_tester.js";
const MOUNT_POINT: &str = "load-tester-root";

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn import_module(url: &str) -> Result<js_sys::Promise, JsValue>;
}

fn call(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: js_sys::Function = js_sys::Reflect::get(module, &name.into())?.dyn_into()?;
    function.apply(&JsValue::NULL, &args.iter().collect::<js_sys::Array>())
}

/// Loads the module, initialises it and mounts the load tester.
async fn load(api_base: String, admin_token: Option<String>) -> Result<JsValue, String> {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or("the page has no base URL")?;
    let url = web_sys::Url::new_with_base(MODULE_JS, &base)
        .map_err(|e| describe_js_error(&e))?
        .href();
    let module = JsFuture::from(import_module(&url).map_err(|e| describe_js_error(&e))?)
        .await
        .map_err(|e| format!("cannot load {MODULE_JS}: {}", describe_js_error(&e)))?;
    let init: js_sys::Promise = call(&module, "default", &[])
        .and_then(|p| p.dyn_into())
        .map_err(|e| describe_js_error(&e))?;
    JsFuture::from(init)
        .await
        .map_err(|e| format!("cannot start the load tester: {}", describe_js_error(&e)))?;
    let token = admin_token.map_or(JsValue::UNDEFINED, |t| JsValue::from_str(&t));
    call(
        &module,
        "mount",
        &[MOUNT_POINT.into(), api_base.into(), token],
    )
    .map_err(|e| describe_js_error(&e))?;
    Ok(module)
}

#[derive(Debug, Clone, PartialEq)]
enum SlotState {
    Closed,
    Loading,
    Open,
    Failed(String),
}

#[component]
pub fn LoadTesterSlot() -> impl IntoView {
    let shared = shared();
    let state = RwSignal::new(SlotState::Closed);
    let module = StoredValue::new_local(None::<JsValue>);
    let open = move |_| {
        if matches!(state.get_untracked(), SlotState::Loading | SlotState::Open) {
            return;
        }
        state.set(SlotState::Loading);
        let settings = shared.settings.get_untracked();
        spawn_local(async move {
            match load(settings.api_base, settings.admin_token).await {
                Ok(loaded) => {
                    module.set_value(Some(loaded));
                    state.set(SlotState::Open);
                }
                Err(error) => state.set(SlotState::Failed(error)),
            }
        });
    };
    // Settings changed in the header reach the load tester.
    Effect::new(move |_| {
        let settings = shared.settings.get();
        module.with_value(|m| {
            if let Some(m) = m {
                let token = settings
                    .admin_token
                    .clone()
                    .map_or(JsValue::UNDEFINED, |t| JsValue::from_str(&t));
                let _ = call(m, "set_api", &[settings.api_base.clone().into(), token]);
            }
        });
    });
    let word = move || match state.get() {
        SlotState::Closed => "closed",
        SlotState::Loading => "loading",
        SlotState::Open => "open",
        SlotState::Failed(_) => "failed",
    };
    view! {
        <Panel testid="load-tester" title="Load tester">
            <div class="load-tester-intro" data-testid="lt-slot" data-state=word hidden=move || state.with(|s| *s == SlotState::Open)>
                <p class="panel-note">
                    "Concurrent POST /stream requests from this browser, each read as a stream: live counts, tokens, "
                    "and TTFT, ITL, TPOT and E2E percentiles. Its code loads when you open it, so that the "
                    "monitoring above does not wait for it."
                </p>
                <button type="button" class="primary" data-testid="lt-open" on:click=open
                    prop:disabled=move || state.with(|s| *s == SlotState::Loading)>
                    {move || if state.with(|s| *s == SlotState::Loading) { "Loading…" } else { "Open the load tester" }}
                </button>
                <p class="field-error" role="alert" data-testid="lt-load-error" hidden=move || !matches!(state.get(), SlotState::Failed(_))>
                    {move || match state.get() { SlotState::Failed(e) => e, _ => String::new() }}
                </p>
            </div>
            <div id=MOUNT_POINT></div>
        </Panel>
    }
}
