//! Cluster mode's configuration: every instance's configuration, read and
//! compared (also between applies: one changed behind the dashboard's back is
//! named); one Apply writes the settings shown to every instance (all three
//! keys, so that it also brings differing instances in line) and reads each
//! back.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::config::{ConfigUpdate, ServiceConfig};
use sse_core::monitoring::cluster::{agreement_message, config_agreement};

use super::{instance_clients, instances_memo};
use crate::browser::poll::use_poller;
use crate::monitoring::config::{ConfigMessageLine, ConfigNote, ConfigState, Switches};
use crate::state::AppState;
use crate::ui::Panel;

type Readings = Vec<(String, Result<ServiceConfig, String>)>;

async fn read_all(app: AppState) -> Readings {
    let reads = instance_clients(app)
        .into_iter()
        .map(|(name, api)| async move { (name, api.config().await.map_err(|e| e.to_string())) });
    futures::future::join_all(reads).await
}

/// Shows `readings`, compared with `sent` when it was just applied; the
/// controls follow the common configuration unless the person is editing.
fn show(
    state: ConfigState,
    readings: RwSignal<Readings>,
    fresh: Readings,
    sent: Option<&ServiceConfig>,
    failures: Vec<String>,
) {
    let agreement = config_agreement(&fresh, sent);
    let editing = state.loaded.get_untracked() != state.edited.get_untracked();
    if sent.is_some() || !editing {
        state.loaded.set(agreement.common.clone());
        state.edited.set(agreement.common.clone());
    }
    let mut text = agreement_message(&agreement, fresh.len(), sent.is_some());
    for failure in &failures {
        text.push(' ');
        text.push_str(failure);
    }
    let clean = agreement.differences.is_empty() && failures.is_empty();
    // A poll that finds all in line keeps the message of the last apply.
    if sent.is_some() || !clean || state.message.with_untracked(Option::is_none) {
        state.message.set(Some(if clean {
            ConfigNote::Info(text)
        } else {
            ConfigNote::Warning(text)
        }));
    }
    readings.set(fresh);
}

#[component]
pub fn ClusterConfig() -> impl IntoView {
    let app = AppState::get();
    let instances = instances_memo(app);
    let state = ConfigState::new(app.api);
    let readings = RwSignal::new(Readings::new());
    use_poller(
        instances,
        move || app.settings.with_untracked(|s| s.stats_poll_ms),
        move || async move {
            if state.busy.get_untracked() {
                return;
            }
            let fresh = read_all(app).await;
            if !state.busy.get_untracked() {
                show(state, readings, fresh, None, Vec::new());
            }
        },
    );
    let apply = move |_| {
        let Some(target) = state.edited.get_untracked() else {
            return;
        };
        state.busy.set(true);
        spawn_local(async move {
            let update = ConfigUpdate {
                use_fake_llm: Some(target.use_fake_llm),
                enable_caching: Some(target.enable_caching),
                queue_type: Some(target.queue_type.clone()),
            };
            let writes = instance_clients(app).into_iter().map(|(name, api)| {
                let update = update.clone();
                async move { (name, api.update_config(&update).await) }
            });
            let failures = futures::future::join_all(writes)
                .await
                .into_iter()
                .filter_map(|(name, result)| {
                    result
                        .err()
                        .map(|e| format!("{name} refused the change: {e}."))
                })
                .collect();
            let fresh = read_all(app).await;
            show(state, readings, fresh, Some(&target), failures);
            state.busy.set(false);
        });
    };
    let common = Memo::new(move |_| state.loaded.get());
    view! {
        <Panel testid="config-panel" title="Configuration (every instance)">
            <form
                class="config-form"
                on:submit=|ev| ev.prevent_default()
                aria-busy=move || state.busy.get().to_string()
            >
                <Switches state />
                <div class="config-actions">
                    <button
                        type="button"
                        data-testid="cfg-apply"
                        title="Writes the settings shown to every instance and reads each back"
                        on:click=apply
                        prop:disabled=move || state.busy.get() || state.edited.with(Option::is_none)
                    >
                        {move || if state.busy.get() { "Saving…" } else { "Apply to all" }}
                    </button>
                </div>
                <ConfigMessageLine message=state.message />
                <div class="table-scroll">
                    <table class="stats-table" data-testid="cfg-instances">
                        <caption>"Each instance's configuration as it last answered"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Instance"</th>
                                <th scope="col">"USE_FAKE_LLM"</th>
                                <th scope="col">"ENABLE_CACHING"</th>
                                <th scope="col">"QUEUE_TYPE"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let common = common.get();
                                readings
                                    .get()
                                    .into_iter()
                                    .map(|(name, reading)| instance_row(
                                        name,
                                        reading,
                                        common.as_ref(),
                                    ))
                                    .collect_view()
                            }}
                        </tbody>
                    </table>
                </div>
            </form>
        </Panel>
    }
}

fn instance_row(
    name: String,
    reading: Result<ServiceConfig, String>,
    common: Option<&ServiceConfig>,
) -> impl IntoView {
    let cells = match &reading {
        Ok(config) => {
            let cell = |key: &'static str, value: String, differs: bool| {
                view! {
                    <td data-metric=key class:differs=differs data-differs=differs.to_string()>
                        {value}
                    </td>
                }
            };
            let differs =
                |f: fn(&ServiceConfig) -> String| common.is_some_and(|c| f(c) != f(config));
            let fake = |c: &ServiceConfig| c.use_fake_llm.to_string();
            let caching = |c: &ServiceConfig| c.enable_caching.to_string();
            let queue = |c: &ServiceConfig| c.queue_type.as_str().to_owned();
            vec![
                cell("USE_FAKE_LLM", fake(config), differs(fake)),
                cell("ENABLE_CACHING", caching(config), differs(caching)),
                cell("QUEUE_TYPE", queue(config), differs(queue)),
            ]
            .into_any()
        }
        Err(error) => view! {
            <td colspan="3" class="absent">
                {format!("not read: {error}")}
            </td>
        }
        .into_any(),
    };
    let state = if reading.is_err() {
        "unread"
    } else if reading.as_ref().ok() == common {
        "same"
    } else {
        "differs"
    };
    view! {
        <tr data-testid=format!("cfg-instance-{name}") data-state=state>
            <th scope="row">{name.clone()}</th>
            {cells}
        </tr>
    }
}
