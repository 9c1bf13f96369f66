//! The on-demand module: the load tester, and the statistics view with the
//! Prometheus reader, loaded by the dashboard when the person opens the load
//! tester or asks for the service's metrics (trunk builds it as
//! `load_tester.js` + `load_tester_bg.wasm`). Keeping them out of the main
//! module keeps the dashboard's first load within its budget.
//!
//! Its exports are the typed boundary the dashboard declares
//! (`monitoring::on_demand::OnDemandModule`): `mount` / `mount_stats` once with
//! the API settings, `set_api` whenever the person changes them.

#[cfg(target_arch = "wasm32")]
mod module {
    use perf_dashboard::load_tester::boundary::{self, ApiSettings};
    use wasm_bindgen::prelude::*;

    fn settings(api_base: String, admin_token: Option<String>, instances: String) -> ApiSettings {
        ApiSettings {
            api_base,
            admin_token,
            instances,
        }
    }

    /// Mounts the load tester into the element with `element_id`.
    #[wasm_bindgen]
    pub fn mount(
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue> {
        boundary::mount(element_id, settings(api_base, admin_token, instances))
            .map_err(|e| JsValue::from_str(&e))
    }

    /// Mounts the statistics view with both sources into `element_id`.
    #[wasm_bindgen]
    pub fn mount_stats(
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
        source: &str,
    ) -> Result<(), JsValue> {
        boundary::mount_stats(
            element_id,
            settings(api_base, admin_token, instances),
            source,
        )
        .map_err(|e| JsValue::from_str(&e))
    }

    /// Mounts cluster mode (status, statistics, configuration of every instance).
    #[wasm_bindgen]
    pub fn mount_cluster(
        status_id: &str,
        main_id: &str,
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue> {
        boundary::mount_cluster(
            status_id,
            main_id,
            settings(api_base, admin_token, instances),
        )
        .map_err(|e| JsValue::from_str(&e))
    }

    /// Mounts the editor of the instances (opened from Settings).
    #[wasm_bindgen]
    pub fn mount_instances(element_id: &str, instances: String) -> Result<(), JsValue> {
        boundary::mount_instances(element_id, &instances).map_err(|e| JsValue::from_str(&e))
    }

    /// The browser benchmark of the Prometheus reader (see
    /// `crates/browser-tests/benches/prometheus.rs`).
    #[wasm_bindgen]
    pub fn bench_prometheus(text: &str, rounds: u32) -> String {
        perf_dashboard::monitoring::stats::full::prometheus_bench(text, rounds)
    }

    /// New API settings from the dashboard.
    #[wasm_bindgen]
    pub fn set_api(
        api_base: String,
        admin_token: Option<String>,
        instances: String,
    ) -> Result<(), JsValue> {
        boundary::set_api(settings(api_base, admin_token, instances))
            .map_err(|e| JsValue::from_str(&e))
    }

    pub fn start() {
        perf_dashboard::browser::panic_report::install();
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    module::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("load_tester is a module of the dashboard: build it with trunk (see README.md)");
}
