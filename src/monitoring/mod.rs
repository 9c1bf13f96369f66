//! The monitoring panels of a single service: status, settings, execution
//! statistics and Prometheus metrics, configuration.

pub mod config;
pub mod settings;
pub mod stats;
pub mod status;
