//! A poller for the panels: runs `check` now and then every `interval_ms`
//! (read at each tick, so a changed setting applies at once), never two at a
//! time, not while the tab is hidden, at once when the tab is shown again and
//! at once when `restart_on` changes (new API base or token).
//!
//! A poll that never finishes (its task was stopped by an exception thrown out of
//! the WASM, or a promise that never settles) does not stop the polling: after
//! [`LOST_AFTER_MS`] it is given up and the next one starts.
//!
//! Hand-written rather than leptos-use's `use_interval_fn` and
//! `use_document_visibility`: those added 8 KB gzipped to the first load
//! (README, "Toolchain").

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::api::REQUEST_TIMEOUT_MS;
use crate::browser::clock::wall_ms as now_ms;

/// How often the poller looks at the clock.
const TICK_MS: u32 = 250;
/// A poll still running this long after its start is taken as lost: every
/// request of a poll has a time limit of at most [`REQUEST_TIMEOUT_MS`].
pub const LOST_AFTER_MS: f64 = 2.0 * REQUEST_TIMEOUT_MS as f64;

fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// The poll under way: its number and when it started.
#[derive(Clone, Copy)]
struct InFlight {
    poll: u64,
    started: f64,
}

/// One poll's work, boxed: every poller shares one copy of the code below.
type Check = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

/// Starts polling for the lifetime of the calling component.
pub fn use_poller<K, F, Fut>(restart_on: Memo<K>, interval_ms: impl Fn() -> u32 + 'static, check: F)
where
    K: PartialEq + Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    poll_with(
        Box::new(move || restart_on.track()),
        Box::new(interval_ms),
        Box::new(move || Box::pin(check())),
    );
}

fn poll_with(track_restart: Box<dyn Fn()>, interval_ms: Box<dyn Fn() -> u32>, check: Check) {
    let in_flight = StoredValue::new_local(None::<InFlight>);
    let polls = StoredValue::new_local(0_u64);
    // A restart asked for while a poll was under way runs when it ends.
    let rerun = StoredValue::new_local(false);
    let last_start = StoredValue::new_local(f64::NEG_INFINITY);
    let check = StoredValue::new_local(check);
    let interval_ms = StoredValue::new_local(interval_ms);
    let run = StoredValue::new_local(None::<Box<dyn Fn(bool)>>);
    let start = move |force: bool| {
        if let Some(current) = in_flight.get_value() {
            if now_ms() - current.started < LOST_AFTER_MS {
                rerun.update_value(|r| *r |= force);
                return;
            }
        }
        if !page_visible() {
            return;
        }
        let due = now_ms() - last_start.get_value() >= f64::from(interval_ms.with_value(|f| f()));
        if !(force || due) {
            return;
        }
        polls.update_value(|n| *n += 1);
        let poll = polls.get_value();
        in_flight.set_value(Some(InFlight {
            poll,
            started: now_ms(),
        }));
        last_start.set_value(now_ms());
        let future = check.with_value(|check| check());
        spawn_local(async move {
            future.await;
            // A poll given up as lost must not clear its successor; a panel
            // that left the page meanwhile took these values with it.
            if in_flight
                .try_get_value()
                .flatten()
                .is_some_and(|f| f.poll == poll)
            {
                in_flight.set_value(None);
                if rerun.get_value() {
                    rerun.set_value(false);
                    run.with_value(|run| {
                        if let Some(run) = run {
                            run(true);
                        }
                    });
                }
            }
        });
    };
    run.set_value(Some(Box::new(start)));
    start(true);
    // A change of what is polled (API base, token) polls again at once.
    Effect::new(move |seen: Option<()>| {
        track_restart();
        if seen.is_some() {
            start(true);
        }
    });
    let ticker = gloo_timers::callback::Interval::new(TICK_MS, move || start(false));
    let on_visible = Closure::<dyn Fn()>::new(move || {
        if page_visible() {
            start(true);
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
