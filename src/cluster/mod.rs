//! Cluster mode: several instances behind one balancer, seen as one service.
//! Parts loaded on demand (a single service's first load does not carry
//! them): the shell shows [`cluster_status_view`] and [`cluster_view`] when
//! the settings list instances, and Settings the [`instances_editor_view`].
//! Each instance is polled on its own API base (the dashboard's nginx proxies
//! `/instances/<name>/`); the balancer stays the address of load tests.

mod config;
mod editor;
mod stats;
mod status;

use config::ClusterConfig;
use editor::InstancesEditor;
use stats::ClusterStats;
use status::ClusterStatus;

use leptos::prelude::*;
use sse_core::contract::instances::Instance;

use crate::api::ApiClient;
use crate::state::AppState;

/// Cluster mode's styles (chips, per-instance bars), shipped with its part.
const STYLE: &str = include_str!("../../style/cluster.css");

crate::on_demand! {
    /// Cluster mode's status indicator, in the header.
    cluster, "cluster view":
    pub fn cluster_status_view() -> AnyView {
        view! { <ClusterStatus /> }.into_any()
    }
}

crate::on_demand! {
    /// Cluster mode's statistics and configuration.
    cluster, "cluster view":
    pub fn cluster_view() -> AnyView {
        view! {
            <ClusterStats />
            <ClusterConfig />
        }
        .into_any()
    }
}

crate::on_demand! {
    /// The editor of the instances, opened from Settings.
    instances_editor, "instances editor":
    pub fn instances_editor_view(current: Vec<Instance>) -> AnyView {
        view! { <InstancesEditor current /> }.into_any()
    }
}

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
