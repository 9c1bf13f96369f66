//! The performance dashboard: a Leptos client-side app, compiled to wasm32 only.
//! Logic that needs no browser lives in the `sse-core` crate; this crate is the
//! thin UI layer over it. Two bundles: `monitoring` (the first load, from
//! `start`) and `load_tester` (on demand, from `src/bin/load_tester.rs`).
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
