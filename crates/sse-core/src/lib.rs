//! The dashboard's platform-neutral core: typed models of the SSE Streaming
//! Microservice's API (see `shared/contract.md`), an incremental SSE parser, and
//! the statistics the dashboard shows. No I/O, no browser: it compiles for wasm32
//! (the dashboard) and native (the reference backend and the tests).

pub mod api_error;
pub mod cluster;
pub mod config;
pub mod dashboard_settings;
pub mod distribution;
pub mod execution_stats;
pub mod field_message;
pub mod format;
pub mod health;
pub mod instances;
pub mod load_model;
pub mod load_plan;
pub mod metrics;
pub mod prometheus;
pub mod recorder;
pub mod run_report;
pub mod run_stats;
pub mod run_timeline;
pub mod service_strip;
pub mod slo;
pub mod sse;
pub mod stats_source;
pub mod stats_view;
pub mod stream;
pub mod sweep;
pub mod time_breakdown;
