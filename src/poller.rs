//! A poller for the panels: runs `check` now and then every `interval_ms`
//! (read at each tick, so a changed setting applies at once), never two at a
//! time, not while the tab is hidden, and at once when the tab is shown again.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// How often the poller looks at the clock.
const TICK_MS: u32 = 250;

fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Starts polling for the lifetime of the calling component.
pub fn use_poller<F, Fut>(interval_ms: impl Fn() -> u32 + 'static, check: F)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let in_flight = StoredValue::new_local(false);
    let last_start = StoredValue::new_local(f64::NEG_INFINITY);
    let check = StoredValue::new_local(check);
    let interval_ms = StoredValue::new_local(interval_ms);
    let run = move |force: bool| {
        if in_flight.get_value() || !page_visible() {
            return;
        }
        let due = now_ms() - last_start.get_value() >= f64::from(interval_ms.with_value(|f| f()));
        if !(force || due) {
            return;
        }
        in_flight.set_value(true);
        last_start.set_value(now_ms());
        let future = check.with_value(|check| check());
        spawn_local(async move {
            future.await;
            in_flight.set_value(false);
        });
    };
    run(true);
    let ticker = gloo_timers::callback::Interval::new(TICK_MS, move || run(false));
    let on_visible = Closure::<dyn Fn()>::new(move || {
        if page_visible() {
            run(true);
        }
    });
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(document) = &document {
        let _ = document.add_event_listener_with_callback(
            "visibilitychange",
            on_visible.as_ref().unchecked_ref(),
        );
    }
    let cleanup = send_wrapper::SendWrapper::new((ticker, on_visible, document));
    on_cleanup(move || {
        let (ticker, on_visible, document) = cleanup.take();
        ticker.cancel();
        if let Some(document) = document {
            let _ = document.remove_event_listener_with_callback(
                "visibilitychange",
                on_visible.as_ref().unchecked_ref(),
            );
        }
    });
}
