//! The two clocks of the page, named for what they are: wall time (epoch ms,
//! for time stamps a person reads and for run ids) and a monotonic clock (for
//! durations, never set back), and the one formatter of times of day.

/// Wall-clock time, ms since the Unix epoch (`Date.now()`).
pub fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// Monotonic time, ms since the page started (`performance.now()`); for
/// measuring durations.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// A wall-clock time as the time of day, `14:05:09` (24 h).
pub fn time_of_day(epoch_ms: f64) -> String {
    js_sys::Date::new(&epoch_ms.into())
        .to_locale_time_string("en-GB")
        .as_string()
        .unwrap_or_default()
}
