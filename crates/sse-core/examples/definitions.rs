//! Prints the definitions tables of docs/metrics.md (`cargo run -p sse-core
//! --example definitions`): paste them between the markers there.
fn main() {
    print!("{}", sse_core::metrics::definitions_markdown());
}
