//! Cluster mode's place on the first load: when the settings list instances,
//! the on-demand module is loaded at once and mounts the cluster's status
//! (into the header) and its statistics and configuration (into the main
//! area). Its code stays out of the first load of a single service.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::on_demand;
use crate::browser::js_error;
use crate::state::AppState;
use crate::ui::FieldError;

pub const STATUS_ROOT: &str = "cluster-status-root";
const MAIN_ROOT: &str = "cluster-root";

/// The header's place for the cluster's status indicator.
#[component]
pub fn ClusterStatusSlot() -> impl IntoView {
    view! { <div id=STATUS_ROOT class="cluster-status-root"></div> }
}

/// Loads the module and mounts cluster mode, again whenever the settings
/// change (the module replaces its views); a failure is said.
#[component]
pub fn ClusterSlot() -> impl IntoView {
    let app = AppState::get();
    let failure = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let settings = app.settings.get();
        spawn_local(async move {
            let mounted = match on_demand::load().await {
                Ok(module) => module
                    .mount_cluster(
                        STATUS_ROOT,
                        MAIN_ROOT,
                        settings.api_base,
                        settings.admin_token,
                        sse_core::contract::instances::list_text(&settings.instances),
                    )
                    .map_err(|e| js_error::describe(&e)),
                Err(error) => Err(error),
            };
            failure.set(
                mounted
                    .err()
                    .map(|e| format!("Cluster mode did not load: {e}")),
            );
        });
    });
    view! {
        <FieldError testid="cluster-error".to_owned() error=Signal::derive(move || failure.get()) />
        <div id=MAIN_ROOT class="cluster-root"></div>
    }
}
