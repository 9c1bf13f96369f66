//! The monitoring panels of a single service: status and the Prometheus
//! server's alerts, settings, execution statistics and Prometheus metrics,
//! configuration.

pub mod alerts;
pub mod config;
pub mod server;
pub mod settings;
pub mod stats;
pub mod status;
