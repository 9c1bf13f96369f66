//! The performance dashboard: a Leptos client-side app, compiled to wasm32 only.
//! Logic that needs no browser lives in the `sse-core` crate; this crate is the
//! thin UI layer over it. One program: the parts declared with `on_demand!`
//! (the load tester, cluster mode, the instances editor, the Prometheus
//! reader) are WASM chunks of their own in the release bundle, fetched when
//! first used and sharing this runtime and its state (`browser::split`).
#![cfg(target_arch = "wasm32")]

pub mod api;
pub mod app;
pub mod browser;
pub mod charts;
pub mod cluster;
pub mod load_tester;
pub mod monitoring;
pub mod state;
pub mod ui;

/// Installs the panic hook and mounts the app on `<body>`.
pub fn start() {
    browser::panic_report::install();
    leptos::mount::mount_to_body(app::App);
}
