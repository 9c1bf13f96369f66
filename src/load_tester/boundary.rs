//! The on-demand module's side of the typed boundary with the dashboard
//! (`monitoring::on_demand::OnDemandModule`): `src/bin/load_tester.rs` exports
//! these functions to JavaScript under the same names.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use sse_core::monitoring::stats_source::StatsSource;

use sse_core::contract::dashboard_settings::validate_api_base;
use sse_core::contract::instances::parse_list;

use super::LoadTester;
use crate::cluster::{ClusterConfig, ClusterStats, ClusterStatus, InstancesEditor};
use crate::monitoring::stats::full::StatsView;
use crate::state::AppState;

thread_local! {
    /// The state of every view mounted (the load tester, the statistics view).
    static STATES: RefCell<Vec<AppState>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// The cluster views mounted last: a new mount replaces them (their
    /// pollers stop with them).
    static CLUSTER: RefCell<Vec<leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>>> =
        const { RefCell::new(Vec::new()) };
}

/// The API settings as the dashboard passes them: its base, the admin token,
/// and the instances as `sse_core::contract::instances::list_text` writes them.
pub struct ApiSettings {
    pub api_base: String,
    pub admin_token: Option<String>,
    pub instances: String,
}

fn apply(state: &AppState, api: &ApiSettings) {
    // The dashboard checked the list already; a list that does not read is none.
    let instances = parse_list(&api.instances, validate_api_base).unwrap_or_default();
    state.settings.update(|s| {
        s.api_base = api.api_base.clone();
        s.admin_token = api.admin_token.clone().filter(|t| !t.is_empty());
        s.instances = instances;
    });
}

fn element(element_id: &str) -> Result<web_sys::HtmlElement, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(element_id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .ok_or_else(|| format!("no element #{element_id} to mount into"))
}

/// Mounts `view` into the element with `element_id`, with its own state.
fn mount_view<V: IntoView + 'static>(
    element_id: &str,
    api: ApiSettings,
    view: impl FnOnce() -> V + 'static,
) -> Result<(), String> {
    let element = element(element_id)?;
    leptos::mount::mount_to(element, move || {
        let state = AppState::provide();
        apply(&state, &api);
        state.settings_loaded.set(true);
        STATES.with(|s| s.borrow_mut().push(state));
        view()
    })
    .forget();
    Ok(())
}

/// Mounts the load tester into the element with `element_id`.
pub fn mount(element_id: &str, api: ApiSettings) -> Result<(), String> {
    mount_view(element_id, api, || view! { <LoadTester /> })
}

/// Mounts cluster mode: its status indicator into `status_id`, its statistics
/// and configuration into `main_id`, sharing one state; a second call
/// replaces the first.
pub fn mount_cluster(status_id: &str, main_id: &str, api: ApiSettings) -> Result<(), String> {
    let (status_root, main_root) = (element(status_id)?, element(main_id)?);
    CLUSTER.with(|c| c.borrow_mut().clear());
    let state = RwSignal::new(None::<AppState>);
    let main = leptos::mount::mount_to(main_root, move || {
        let app = AppState::provide();
        apply(&app, &api);
        app.settings_loaded.set(true);
        STATES.with(|s| s.borrow_mut().push(app));
        state.set(Some(app));
        view! {
            <ClusterStats />
            <ClusterConfig />
        }
        .into_any()
    });
    let Some(app) = state.get_untracked() else {
        return Err("cluster mode did not start".to_owned());
    };
    let status = leptos::mount::mount_to(status_root, move || {
        provide_context(app);
        view! { <ClusterStatus /> }.into_any()
    });
    CLUSTER.with(|c| c.borrow_mut().extend([main, status]));
    Ok(())
}

/// Mounts the statistics view with both sources; `source` is the one picked
/// ("" = the default: the one that holds data).
pub fn mount_stats(element_id: &str, api: ApiSettings, source: &str) -> Result<(), String> {
    let source = StatsSource::from_id(source);
    mount_view(element_id, api, move || view! { <StatsView source /> })
}

/// Mounts the instances editor (from Settings) into `element_id`, once.
pub fn mount_instances(element_id: &str, instances_text: &str) -> Result<(), String> {
    let root = element(element_id)?;
    if root.child_element_count() > 0 {
        return Ok(());
    }
    let current = parse_list(instances_text, validate_api_base).unwrap_or_default();
    leptos::mount::mount_to(root, move || view! { <InstancesEditor current /> }).forget();
    Ok(())
}

/// New API settings from the dashboard, for every view mounted.
pub fn set_api(api: ApiSettings) -> Result<(), String> {
    STATES.with(|s| {
        let states = s.borrow();
        if states.is_empty() {
            return Err("nothing is mounted yet".to_owned());
        }
        for state in states.iter() {
            apply(state, &api);
        }
        Ok(())
    })
}
