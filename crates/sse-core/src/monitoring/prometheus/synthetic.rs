//! A synthetic exposition the size of a busy service's scrape, for the
//! benchmarks (native and in the browser): the service's stage histograms for
//! several models, and HTTP histograms and counters of many handlers.

use std::fmt::Write;

const STAGES: [(&str, &str); 8] = [
    ("1", "Request validation"),
    ("2.1-2.2", "Cache lookup"),
    ("2.3", "Cache set"),
    ("3", "Rate limit verification"),
    ("4", "Provider selection"),
    ("5", "LLM streaming"),
    ("5.1", "Validate model"),
    ("6", "Cleanup and caching"),
];
const BOUNDS: [&str; 12] = [
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "10.0",
    "+Inf",
];

fn histogram(out: &mut String, name: &str, labels: &str, seed: u64) -> usize {
    let mut count = 0;
    for (i, le) in BOUNDS.iter().enumerate() {
        count += (seed + i as u64 * 7) % 13;
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {count}.0");
    }
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}.25", count * 3);
    let _ = writeln!(out, "{name}_count{{{labels}}} {count}.0");
    BOUNDS.len() + 2
}

/// An exposition of at least `bytes` bytes; returns it and its series count.
pub fn exposition(bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(bytes + 4096);
    let mut series = 0;
    out.push_str("# HELP sse_stage_duration_seconds Stage execution duration in seconds\n# TYPE sse_stage_duration_seconds histogram\n");
    for model in 0..4 {
        for (stage, name) in STAGES {
            let labels = format!("model=\"model-{model}\",stage=\"{stage}\",substage=\"{name}\"");
            series += histogram(
                &mut out,
                "sse_stage_duration_seconds",
                &labels,
                model * 31 + stage.len() as u64,
            );
        }
    }
    out.push_str("# HELP sse_requests_total Total number of SSE stream requests\n# TYPE sse_requests_total counter\n");
    for model in 0..4 {
        for status in ["success", "error", "rate_limited"] {
            let _ = writeln!(out, "sse_requests_total{{model=\"model-{model}\",provider=\"fake\",status=\"{status}\"}} {}.0", model * 10 + 3);
            series += 1;
        }
    }
    out.push_str("# HELP http_request_duration_seconds HTTP requests by handler\n# TYPE http_request_duration_seconds histogram\n");
    let mut handler = 0;
    while out.len() < bytes {
        let labels = format!("handler=\"/h{handler}\"");
        series += histogram(&mut out, "http_request_duration_seconds", &labels, handler);
        handler += 1;
    }
    (out, series)
}

/// The benchmarks' table: the baseline and parse + merge in ms and MB/s, and
/// their ratio (the same lines natively and in the browser).
pub fn report(text_bytes: usize, baseline_ms: f64, parse_ms: f64) -> String {
    let mbs = |ms: f64| text_bytes as f64 / 1e6 / (ms / 1000.0);
    format!(
        "{:<34} {:>10} {:>12}\n{:<34} {baseline_ms:>10.3} {:>12.0}\n{:<34} {parse_ms:>10.3} {:>12.0}\nratio parse / baseline: {:.1}",
        "",
        "median ms",
        "MB/s",
        "baseline: split into lines",
        mbs(baseline_ms),
        "parse + merge (ServiceMetrics)",
        mbs(parse_ms),
        parse_ms / baseline_ms
    )
}
