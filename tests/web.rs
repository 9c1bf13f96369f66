//! Component tests in headless Chromium (`cargo test --target wasm32-unknown-unknown`,
//! run by wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use leptos::prelude::*;
use perf_dashboard::monitoring::status::StatusIndicator;
use perf_dashboard::state::AppState;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a browser document")
}

/// A fresh element in <body> to mount one component into.
fn mount_point() -> web_sys::HtmlElement {
    let element = document().create_element("div").expect("div");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    element.unchecked_into()
}

async fn wait_until(mut ready: impl FnMut() -> bool, timeout: Duration) -> bool {
    let step = 50;
    for _ in 0..(timeout.as_millis() as u32 / step) {
        if ready() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(step).await;
    }
    ready()
}

#[wasm_bindgen_test]
async fn status_indicator_checks_first_then_reports_an_unreachable_service() {
    let parent = mount_point();
    // The test runner's server has no /api/v1/health: it answers 404.
    let _mounted = leptos::mount::mount_to(parent.clone(), || {
        AppState::provide();
        view! { <StatusIndicator /> }
    });
    let indicator = parent
        .query_selector("[data-testid=status-indicator]")
        .expect("valid selector")
        .expect("indicator rendered");
    assert_eq!(
        indicator.get_attribute("data-state").as_deref(),
        Some("checking")
    );

    let settled = wait_until(
        || indicator.get_attribute("data-state").as_deref() == Some("disconnected"),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        settled,
        "state stayed {:?}",
        indicator.get_attribute("data-state")
    );
    let reason = indicator.get_attribute("title").unwrap_or_default();
    assert!(reason.contains("HTTP 404"), "{reason}");
}

#[wasm_bindgen_test]
fn panic_report_marks_the_page_and_shows_a_banner() {
    perf_dashboard::browser::panic_report::report("test panic");
    let root = document().document_element().expect("html");
    assert_eq!(
        root.get_attribute("data-panic").as_deref(),
        Some("test panic")
    );
    let banner = document()
        .query_selector("[data-testid=panic-banner]")
        .expect("valid selector")
        .expect("banner shown");
    assert!(banner
        .text_content()
        .unwrap_or_default()
        .contains("Reload the page"));
}
