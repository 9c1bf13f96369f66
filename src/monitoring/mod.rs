//! The FIRST-LOAD bundle's panels: status, settings, execution statistics,
//! configuration, and the slot that loads the load tester on demand.

pub mod config;
pub mod load_tester_slot;
pub mod settings;
pub mod stats;
pub mod status;
