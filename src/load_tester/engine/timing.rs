//! What the browser tells about a request it sent: its own queue time and the
//! protocol (Resource Timing).

use wasm_bindgen::JsCast;

use crate::api::ApiClient;

/// Resource Timing entries kept during a run (the browser's default is 250);
/// requests beyond it have no browser queue time.
const RESOURCE_TIMING_ENTRIES: u32 = 20_000;

/// Clears the entries of earlier runs and makes room for this one's.
pub(super) fn prepare() {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        performance.clear_resource_timings();
        performance.set_resource_timing_buffer_size(RESOURCE_TIMING_ENTRIES);
    }
}

/// The browser's queue time and protocol of the request to `url`, where it tells.
pub(super) fn resource_timing(url: &str) -> Option<(Option<f64>, Option<String>)> {
    let performance = web_sys::window()?.performance()?;
    let absolute = web_sys::Url::new_with_base(url, &web_sys::window()?.location().href().ok()?)
        .ok()?
        .href();
    let entries = performance.get_entries_by_name(&absolute);
    let entry: web_sys::PerformanceResourceTiming = entries
        .get(entries.length().checked_sub(1)?)
        .dyn_into()
        .ok()?;
    // Cross-origin without Timing-Allow-Origin, both are zeroed/empty.
    let queue = (entry.request_start() > 0.0).then(|| entry.request_start() - entry.start_time());
    let protocol = Some(entry.next_hop_protocol()).filter(|p| !p.is_empty());
    Some((queue, protocol))
}

/// The protocol the browser used for the last health check (or the page
/// itself, when the API is on the page's origin); `None` when it does not tell.
pub fn known_protocol(api: &ApiClient) -> Option<String> {
    if let Some((_, Some(protocol))) = resource_timing(&api.health_url()) {
        return Some(protocol);
    }
    let same_origin = api.base().starts_with('/');
    let performance = web_sys::window()?.performance()?;
    let navigation: web_sys::PerformanceResourceTiming = performance
        .get_entries_by_type("navigation")
        .get(0)
        .dyn_into()
        .ok()?;
    Some(navigation.next_hop_protocol()).filter(|p| same_origin && !p.is_empty())
}

/// The page-clock epoch (ms) of the page's monotonic 0.
pub(super) fn time_origin() -> Option<f64> {
    Some(web_sys::window()?.performance()?.time_origin())
}
