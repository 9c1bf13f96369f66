//! The Prometheus server's firing and pending alerts, next to the status
//! indicator (`alerts`, one `alert-<name>` each): name, severity, instance,
//! since when, summary. Polled with the health checks while the settings name
//! a server; the list is there (empty = none) as long as they do. A part
//! loaded on demand: a dashboard without a Prometheus server never fetches it.

use leptos::prelude::*;
use sse_core::format::display_text;
use sse_core::monitoring::prometheus_api::Alert;

use crate::browser::poll::use_poller;
use crate::state::AppState;

fn item(alert: Alert) -> impl IntoView {
    let since = alert
        .active_at
        .as_deref()
        .map(|t| format!(" since {}", display_text(t, 40)))
        .unwrap_or_default();
    let title = format!(
        "{} ({}, {}){}{}{}",
        alert.name,
        alert.state.id(),
        alert.severity.as_deref().unwrap_or("no severity"),
        alert
            .instance
            .as_deref()
            .map(|i| format!(" on {i}"))
            .unwrap_or_default(),
        since,
        alert
            .summary
            .as_deref()
            .map(|s| format!(": {}", display_text(s, 200)))
            .unwrap_or_default()
    );
    let on = alert
        .instance
        .as_deref()
        .map(|i| format!(" · {}", display_text(i, 30)));
    view! {
        <li
            class="alert"
            data-testid=format!("alert-{}", alert.name)
            data-state=alert.state.id()
            data-severity=alert.severity.clone().unwrap_or_default()
            data-instance=alert.instance.clone().unwrap_or_default()
            title=title
        >
            {display_text(&alert.name, 40)}
            {on}
        </li>
    }
}

crate::on_demand! {
    /// The alerts and their poller (loaded once the settings name a server).
    prometheus_alerts, "Prometheus alerts":
    pub fn alerts_view() -> AnyView {
        view! { <Alerts /> }.into_any()
    }
}

#[component]
fn Alerts() -> impl IntoView {
    let app = AppState::get();
    use_poller(
        app.prometheus,
        move || app.settings.with_untracked(|s| s.health_poll_ms),
        move || {
            let server = app.prometheus.get_untracked();
            async move {
                let Some(server) = server else {
                    return;
                };
                let answer = server.alerts().await.map_err(|e| e.to_string());
                app.alerts.try_set(Some(answer));
            }
        },
    );
    let list = move || {
        app.alerts.with(|a| match a {
            Some(Ok(alerts)) => alerts.clone(),
            _ => Vec::new(),
        })
    };
    let problem = move || {
        app.alerts.with(|a| match a {
            Some(Err(e)) => format!("Alerts not read: {e}"),
            _ => String::new(),
        })
    };
    view! {
        <div class="alerts">
            <ul
                data-testid="alerts"
                aria-label="Prometheus alerts"
                data-count=move || {
                    app.alerts
                        .with(|a| match a {
                            Some(Ok(list)) => list.len().to_string(),
                            _ => String::new(),
                        })
                }
            >
                <For each=list key=|a| (a.name.clone(), a.instance.clone(), a.state) let(alert)>
                    {item(alert)}
                </For>
            </ul>
            <span class="alerts-problem" data-testid="alerts-problem" title=problem>
                {move || (!problem().is_empty()).then_some("alerts: not read")}
            </span>
        </div>
    }
}
