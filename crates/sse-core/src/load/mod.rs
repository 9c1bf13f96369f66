//! Load testing: the plan a form or a file describes, the load models and
//! their schedule, the recorder of one request, the run's statistics, SLO
//! verdicts, sweeps, the report (the one export schema), the stage timeline
//! of a run and where each request's time went.

pub mod junit;
pub mod model;
pub mod plan;
pub mod recorder;
pub mod report;
pub mod request_row;
pub mod run;
pub mod run_stats;
pub mod slo;
pub mod summary_text;
pub mod sweep;
pub mod time_breakdown;
pub mod timeline;
