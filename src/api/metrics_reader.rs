//! The Prometheus reader (the core's text reader and the service's families),
//! a part loaded on demand: its code is fetched with the first exposition to
//! read, not with the page.

use sse_core::monitoring::prometheus::service::ServiceMetrics;

use super::ApiError;

crate::on_demand! {
    /// Reads a scrape of `/admin/metrics`.
    prometheus_reader, "Prometheus reader":
    pub fn read_metrics(text: String) -> Result<ServiceMetrics, ApiError> {
        ServiceMetrics::parse(&text).map_err(|e| ApiError::Decode(e.to_string()))
    }
}

crate::on_demand! {
    /// The browser benchmark of the reader: the median ms of `rounds` plain
    /// line splits of `text` (the baseline) and of as many reads, as JSON.
    prometheus_reader, "Prometheus reader":
    pub fn bench_reader(text: String, rounds: u32) -> String {
        bench(&text, rounds)
    }
}

/// [`bench_reader`] for the browser benchmark (`cargo bench -p browser-tests
/// --bench prometheus`, through `window.wasmBindings`); a reader that did not
/// load is said in the JSON.
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn bench_prometheus(text: String, rounds: u32) -> String {
    bench_reader(text, rounds)
        .await
        .unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
}

fn bench(text: &str, rounds: u32) -> String {
    use crate::browser::clock::monotonic_ms;

    fn median(mut run: impl FnMut() -> usize, rounds: u32) -> (f64, usize) {
        let mut times = Vec::new();
        let mut out = 0;
        for _ in 0..rounds.max(1) {
            let start = monotonic_ms();
            out = std::hint::black_box(run());
            times.push(monotonic_ms() - start);
        }
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], out)
    }
    let (baseline, _) = median(|| text.lines().map(str::len).sum(), rounds);
    let (parse, stages) = median(
        || ServiceMetrics::parse(text).map_or(0, |m| m.stages.len()),
        rounds,
    );
    format!(r#"{{"baseline_ms":{baseline},"parse_ms":{parse},"stages":{stages}}}"#)
}
