//! The on-demand module (`src/bin/load_tester.rs`, built by trunk as
//! `load_tester.js` + `load_tester_bg.wasm`): the load tester and the full
//! statistics view with the Prometheus reader. It is not part of the first
//! load; the slots load it when the person opens the load tester or asks for
//! the service's metrics. It is reached through a typed boundary
//! ([`OnDemandModule`]): the compiler checks every call.

use sse_core::contract::dashboard_settings::DashboardSettings;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser::js_error;

/// The module's files as trunk writes them (not content-hashed: see nginx.conf).
const MODULE_JS: &str = "load_tester.js";

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn import_module(url: &str) -> Result<js_sys::Promise, JsValue>;

    /// The on-demand module's exports (see `src/bin/load_tester.rs`).
    pub type OnDemandModule;

    /// wasm-bindgen's initialiser: fetches and starts the module's WASM (a
    /// second call answers the instance already started).
    #[wasm_bindgen(method, catch, js_name = default)]
    fn init(this: &OnDemandModule) -> Result<js_sys::Promise, JsValue>;

    /// Mounts the load tester into the element with `element_id`.
    #[wasm_bindgen(method, catch)]
    pub fn mount(
        this: &OnDemandModule,
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue>;

    /// Mounts the statistics view with both sources into `element_id`;
    /// `source` is the one the person picked ("" = the default).
    #[wasm_bindgen(method, catch)]
    pub fn mount_stats(
        this: &OnDemandModule,
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
        source: &str,
    ) -> Result<(), JsValue>;

    /// Mounts cluster mode: the status into `status_id`, the statistics and
    /// the configuration of every instance into `main_id`.
    #[wasm_bindgen(method, catch)]
    pub fn mount_cluster(
        this: &OnDemandModule,
        status_id: &str,
        main_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue>;

    /// Mounts the editor of the instances (as `list_text` writes them) into `element_id`.
    #[wasm_bindgen(method, catch)]
    pub fn mount_instances(
        this: &OnDemandModule,
        element_id: &str,
        instances: String,
    ) -> Result<(), JsValue>;

    /// New API settings for everything the module has mounted.
    #[wasm_bindgen(method, catch)]
    pub fn set_api(
        this: &OnDemandModule,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue>;
}

/// Loads and starts the module (once: the browser keeps the imported module).
pub async fn load() -> Result<OnDemandModule, String> {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or("the page has no base URL")?;
    let url = web_sys::Url::new_with_base(MODULE_JS, &base)
        .map_err(|e| js_error::describe(&e))?
        .href();
    let loading = import_module(&url).map_err(|e| js_error::describe(&e))?;
    let module: OnDemandModule = JsFuture::from(loading)
        .await
        .map_err(|e| format!("cannot load {MODULE_JS}: {}", js_error::describe(&e)))?
        .unchecked_into();
    let started = module.init().map_err(|e| js_error::describe(&e))?;
    JsFuture::from(started)
        .await
        .map_err(|e| format!("cannot start {MODULE_JS}: {}", js_error::describe(&e)))?;
    Ok(module)
}

/// Pushes new settings to the module; the sentence to show when it refused.
pub fn push_settings(module: &OnDemandModule, settings: &DashboardSettings) -> Option<String> {
    module
        .set_api(
            settings.api_base.clone(),
            settings.admin_token.clone(),
            sse_core::contract::instances::list_text(&settings.instances),
        )
        .err()
        .map(|e| {
            format!(
                "The on-demand module did not take the new settings: {}",
                js_error::describe(&e)
            )
        })
}
