//! Entry point that trunk builds for wasm32.

fn main() {
    #[cfg(target_arch = "wasm32")]
    perf_dashboard::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("perf-dashboard runs in a browser: build it with trunk (see README.md)");
}
