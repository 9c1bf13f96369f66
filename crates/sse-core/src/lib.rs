//! The dashboard's platform-neutral core: typed models of the SSE Streaming
//! Microservice's API (see `shared/contract.md`), an incremental SSE parser, and
//! every number the dashboard and the load runners show. No I/O, no browser: it
//! compiles for wasm32 (the dashboard) and native (the reference backend, the
//! tests).
//!
//! Laid out by domain; a domain imports from itself, from the ones below it
//! and from `contract`, `metrics` and `format` (checked by `tests/layout.rs`):
//!
//! - [`contract`]: the service's API types (health, config, execution stats,
//!   errors, the stream request and its events' payloads, dashboard settings,
//!   instances).
//! - [`sse`]: the incremental SSE parser and the decoding of a stream's events.
//! - [`monitoring`]: what the monitoring panels show (statistics views and
//!   sources, the Prometheus reader, cluster merges, the service strip).
//! - [`load`]: load testing (plan, load models and schedule, the per-request
//!   recorder, run statistics, SLOs, sweeps, the report, the stage timeline,
//!   the time breakdown); it may read `sse` and `monitoring`.
//! - [`metrics`]: the one definition of every figure, and the percentile rule.
//! - [`format`]: how numbers are written for people.

pub mod contract;
pub mod format;
pub mod load;
pub mod metrics;
pub mod monitoring;
pub mod sse;
