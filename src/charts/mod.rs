//! The ECharts binding and the options of every chart the dashboard draws.

pub mod echarts;
pub mod figure;
pub mod latency;
pub mod stages;

pub use echarts::{draw, draw_later, loaded, ChartOption, DrawnChart};
pub use figure::ChartFigure;
