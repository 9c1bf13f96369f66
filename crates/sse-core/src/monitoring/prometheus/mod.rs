//! Prometheus: the text exposition format, histogram maths and the SSE
//! service's own families. See docs/metrics.md for how quantiles are estimated.

pub mod exposition;
pub mod histogram;
pub mod service;
#[doc(hidden)]
pub mod synthetic;
