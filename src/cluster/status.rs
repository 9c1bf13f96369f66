//! Cluster mode's status indicator: every instance's `/health`, polled
//! together; "k of n healthy", degraded while some are down (named), and one
//! chip per instance.

use leptos::prelude::*;
use sse_core::contract::health::ConnectionState;
use sse_core::format::display_text;
use sse_core::monitoring::cluster::cluster_health;

use super::{instance_clients, instances_memo};
use crate::browser::clock::{time_of_day, wall_ms};
use crate::browser::poll::use_poller;
use crate::state::AppState;

#[component]
pub fn ClusterStatus() -> impl IntoView {
    let app = AppState::get();
    let instances = instances_memo(app);
    let states = RwSignal::new(Vec::<(String, ConnectionState)>::new());
    let last_check = RwSignal::new(None::<f64>);
    let checking = RwSignal::new(false);
    use_poller(
        instances,
        move || app.settings.with_untracked(|s| s.health_poll_ms),
        move || {
            checking.set(true);
            let clients = instance_clients(app);
            async move {
                let checks = clients.into_iter().map(|(name, api)| async move {
                    (name, ConnectionState::from_check(api.health().await))
                });
                let next = futures::future::join_all(checks).await;
                let was_down = states.with_untracked(|s| cluster_health(s).healthy == 0);
                let up = cluster_health(&next).healthy > 0;
                states.set(next);
                checking.set(false);
                last_check.set(Some(wall_ms()));
                if was_down && up {
                    app.connections.update(|n| *n += 1);
                }
            }
        },
    );
    let alerts = Memo::new(move |_| app.critical_alerts());
    let health = Memo::new(move |_| {
        let health = states.with(|s| {
            if s.is_empty() {
                let names = instances.get();
                cluster_health(
                    &names
                        .into_iter()
                        .map(|i| (i.name, ConnectionState::Checking))
                        .collect::<Vec<_>>(),
                )
            } else {
                cluster_health(s)
            }
        });
        health.degraded_by(alerts.get())
    });
    let details = move || {
        health.with(|h| {
            let mut text = format!("{} instances behind the balancer: {}.", h.total, h.label);
            for problem in &h.problems {
                text.push(' ');
                text.push_str(problem);
                text.push('.');
            }
            display_text(&text, 600)
        })
    };
    view! {
        <div
            class="status-indicator cluster-status"
            data-testid="status-indicator"
            role="status"
            aria-live="polite"
            data-state=move || health.with(|h| h.key)
            data-value=move || health.with(|h| h.healthy.to_string())
            data-checking=move || checking.get().to_string()
            title=details
        >
            // Cluster mode's styles come with its module (the first load has none).
            <style>{super::STYLE}</style>
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">{move || health.with(|h| h.label.clone())}</span>
            <span class="status-meta">
                <InstanceChips states />
                <span data-testid="status-last-check">
                    {move || {
                        last_check
                            .get()
                            .map(|t| format!("checked {}", time_of_day(t)))
                            .unwrap_or_default()
                    }}
                </span>
            </span>
            <span class="visually-hidden">{details}</span>
        </div>
    }
}

/// One chip per instance, in the colour of its state.
#[component]
fn InstanceChips(states: RwSignal<Vec<(String, ConnectionState)>>) -> impl IntoView {
    view! {
        <span class="instance-chips">
            <For
                each=move || states.get()
                key=|(name, state)| format!("{name}:{}", state.key())
                let((name, state))
            >
                <span
                    class="instance-chip"
                    data-testid=format!("instance-{name}")
                    data-state=state.key()
                    title=format!("{name}: {}", state.label())
                >
                    {name.clone()}
                </span>
            </For>
        </span>
    }
}
