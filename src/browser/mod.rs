//! Browser glue without views: storage, clocks, deadlines, polling, frames,
//! downloads, JavaScript error text and the panic report.

pub mod clock;
pub mod deadline;
pub mod download;
pub mod frame;
pub mod js_error;
pub mod panic_report;
pub mod poll;
pub mod split;
pub mod storage;
