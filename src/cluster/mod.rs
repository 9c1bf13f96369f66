//! Cluster mode: several instances behind one balancer, seen as one service.
//! In the on-demand module (the first load stays within its budget): the
//! first-load shell mounts it through `monitoring::cluster_slot` when the
//! settings list instances. Each instance is polled on its own API base (the
//! dashboard's nginx proxies `/instances/<name>/`); the balancer stays the
//! address of load tests.

mod config;
mod editor;
mod stats;
mod status;

pub use config::ClusterConfig;
pub use editor::InstancesEditor;
pub use stats::ClusterStats;
pub use status::ClusterStatus;

use leptos::prelude::*;
use sse_core::contract::instances::Instance;

use crate::api::ApiClient;
use crate::state::AppState;

/// Cluster mode's styles (chips, per-instance bars), shipped with this module.
const STYLE: &str = include_str!("../../style/cluster.css");

/// The instances in the settings; pollers restart when they change.
fn instances_memo(app: AppState) -> Memo<Vec<Instance>> {
    Memo::new(move |_| app.settings.with(|s| s.instances.clone()))
}

/// One API client per instance (its own base, the same admin token).
pub(crate) fn instance_clients(app: AppState) -> Vec<(String, ApiClient)> {
    app.settings.with_untracked(|s| {
        s.instances
            .iter()
            .map(|i| {
                let mut own = s.clone();
                own.api_base = i.api_base.clone();
                own.instances = Vec::new();
                (i.name.clone(), ApiClient::from_settings(&own))
            })
            .collect()
    })
}
