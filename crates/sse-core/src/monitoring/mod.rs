//! What the monitoring panels show: the statistics view and its sources
//! (execution stats, Prometheus histograms), the Prometheus text reader,
//! the merges of several instances, and the service strip.

pub mod cluster;
pub mod prometheus;
pub mod prometheus_api;
pub mod prometheus_server;
pub mod service_strip;
pub mod stats_source;
pub mod stats_view;
