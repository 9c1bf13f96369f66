//! The SSE Streaming Microservice's API as the dashboard speaks it
//! (`shared/contract.md`): answers, request bodies, errors, and the
//! dashboard's own settings of where the service is.

pub mod api_error;
pub mod config;
pub mod dashboard_settings;
pub mod execution_stats;
pub mod field_message;
pub mod health;
pub mod instances;
pub mod stream;
