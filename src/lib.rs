//! The performance dashboard: a Leptos client-side app, compiled to wasm32 only.
//! Logic that needs no browser lives in the `sse-core` crate; this crate is the
//! thin UI layer over it.
#![cfg(target_arch = "wasm32")]

pub mod api;
pub mod app;
pub mod config_panel;
pub mod echarts;
pub mod load_engine;
pub mod load_tester;
pub mod load_tester_slot;
pub mod metrics_chart;
pub mod panel;
pub mod panic_report;
pub mod poller;
pub mod status_indicator;

/// Installs the panic hook and mounts the app on `<body>`.
pub fn start() {
    panic_report::install();
    leptos::mount::mount_to_body(app::App);
}
