//! The FIRST-LOAD bundle's panels: status, settings, execution statistics,
//! configuration, and the slots that load the on-demand module (the load
//! tester, the statistics view with the Prometheus reader). `stats::full` is
//! the one part here that only the on-demand module reaches.

pub mod cluster_slot;
pub mod config;
pub mod load_tester_slot;
pub mod on_demand;
pub mod settings;
pub mod stats;
pub mod status;
