//! The load tester's side of the typed boundary with the dashboard's slot
//! (`monitoring::load_tester_slot::LoadTesterModule`): `src/bin/load_tester.rs`
//! exports these two functions to JavaScript under the same names.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::LoadTester;
use crate::state::AppState;

thread_local! {
    static STATE: RefCell<Option<AppState>> = const { RefCell::new(None) };
}

fn apply(state: &AppState, api_base: String, admin_token: Option<String>) {
    state.settings.update(|s| {
        s.api_base = api_base;
        s.admin_token = admin_token.filter(|t| !t.is_empty());
    });
}

/// Mounts the load tester into the element with `element_id`.
pub fn mount(
    element_id: &str,
    api_base: String,
    admin_token: Option<String>,
) -> Result<(), String> {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(element_id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .ok_or("no element to mount the load tester in")?;
    leptos::mount::mount_to(element, move || {
        let state = AppState::provide();
        apply(&state, api_base, admin_token);
        state.settings_loaded.set(true);
        STATE.with(|s| *s.borrow_mut() = Some(state));
        view! { <LoadTester /> }
    })
    .forget();
    Ok(())
}

/// New API settings from the dashboard.
pub fn set_api(api_base: String, admin_token: Option<String>) -> Result<(), String> {
    STATE.with(|s| match s.borrow().as_ref() {
        Some(state) => {
            apply(state, api_base, admin_token);
            Ok(())
        }
        None => Err("the load tester is not mounted yet".to_owned()),
    })
}
