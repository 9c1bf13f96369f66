//! The on-demand module's side of the typed boundary with the dashboard
//! (`monitoring::on_demand::OnDemandModule`): `src/bin/load_tester.rs` exports
//! these functions to JavaScript under the same names.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use sse_core::stats_source::StatsSource;

use super::LoadTester;
use crate::monitoring::stats::full::StatsView;
use crate::state::AppState;

thread_local! {
    /// The state of every view mounted (the load tester, the statistics view).
    static STATES: RefCell<Vec<AppState>> = const { RefCell::new(Vec::new()) };
}

fn apply(state: &AppState, api_base: String, admin_token: Option<String>) {
    state.settings.update(|s| {
        s.api_base = api_base;
        s.admin_token = admin_token.filter(|t| !t.is_empty());
    });
}

/// Mounts `view` into the element with `element_id`, with its own state.
fn mount_view<V: IntoView + 'static>(
    element_id: &str,
    api_base: String,
    admin_token: Option<String>,
    view: impl FnOnce() -> V + 'static,
) -> Result<(), String> {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(element_id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .ok_or_else(|| format!("no element #{element_id} to mount into"))?;
    leptos::mount::mount_to(element, move || {
        let state = AppState::provide();
        apply(&state, api_base, admin_token);
        state.settings_loaded.set(true);
        STATES.with(|s| s.borrow_mut().push(state));
        view()
    })
    .forget();
    Ok(())
}

/// Mounts the load tester into the element with `element_id`.
pub fn mount(
    element_id: &str,
    api_base: String,
    admin_token: Option<String>,
) -> Result<(), String> {
    mount_view(
        element_id,
        api_base,
        admin_token,
        || view! { <LoadTester /> },
    )
}

/// Mounts the statistics view with both sources; `source` is the one picked
/// ("" = the default: the one that holds data).
pub fn mount_stats(
    element_id: &str,
    api_base: String,
    admin_token: Option<String>,
    source: &str,
) -> Result<(), String> {
    let source = StatsSource::from_id(source);
    mount_view(
        element_id,
        api_base,
        admin_token,
        move || view! { <StatsView source /> },
    )
}

/// New API settings from the dashboard, for every view mounted.
pub fn set_api(api_base: String, admin_token: Option<String>) -> Result<(), String> {
    STATES.with(|s| {
        let states = s.borrow();
        if states.is_empty() {
            return Err("nothing is mounted yet".to_owned());
        }
        for state in states.iter() {
            apply(state, api_base.clone(), admin_token.clone());
        }
        Ok(())
    })
}
