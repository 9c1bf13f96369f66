//! The configuration panel: the service's three runtime switches.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::config::{ConfigUpdate, QueueType, ServiceConfig};

use crate::api::{ApiClient, ApiError, ConfigAnswer};
use crate::app::shared;
use crate::panel::Panel;

/// The panel's message after an action.
#[derive(Debug, Clone, PartialEq)]
enum Message {
    Info(String),
    Warning(String),
    Error(String),
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let shared = shared();
    let loaded = RwSignal::new(None::<ServiceConfig>);
    let edited = RwSignal::new(None::<ServiceConfig>);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<Message>);
    // Field name -> the service's message about it (from a 422).
    let field_errors = RwSignal::new(Vec::<(String, String)>::new());
    let raw_json = RwSignal::new(String::from("{\"USE_FAKE_LLM\": true}"));

    let load = move || {
        busy.set(true);
        let api = shared.api.get_untracked();
        spawn_local(async move {
            match api.config().await {
                Ok(config) => {
                    loaded.set(Some(config.clone()));
                    edited.set(Some(config));
                    message.set(None);
                }
                Err(error) => message.set(Some(Message::Error(format!(
                    "Could not load the configuration. {error}"
                )))),
            }
            busy.set(false);
        });
    };
    // Load at start, again after every reconnect and when the API base or the
    // admin token changes. The first Connected after a start whose load
    // succeeded (or is under way) is no reconnect: no second request.
    Effect::new(move |previous: Option<(u64, ApiClient)>| {
        let now = (shared.connections.get(), shared.api.get());
        let first_connect = matches!(&previous, Some((0, api)) if now.0 == 1 && *api == now.1);
        if !(first_connect && (loaded.with_untracked(Option::is_some) || busy.get_untracked())) {
            load();
        }
        now
    });

    let handle_answer = move |sent: ConfigUpdate, result: Result<ConfigAnswer, ApiError>| {
        field_errors.set(Vec::new());
        match result {
            Ok(ConfigAnswer { answer, warnings }) => {
                let kept = sent.not_applied(&answer.current_config);
                loaded.set(Some(answer.current_config.clone()));
                edited.set(Some(answer.current_config));
                let mut notes: Vec<String> = kept
                    .iter()
                    .map(|k| {
                        format!(
                            "The service kept {} = {} although {} was sent.",
                            k.key, k.kept, k.sent
                        )
                    })
                    .collect();
                notes.extend(warnings);
                message.set(Some(if notes.is_empty() {
                    Message::Info("Applied. The service now reports the values shown.".into())
                } else {
                    Message::Warning(notes.join(" "))
                }));
            }
            Err(ApiError::Http { status: 422, body }) => {
                let fields: Vec<(String, String)> = body
                    .field_messages()
                    .into_iter()
                    .map(|m| (m.field.unwrap_or_else(|| "body".into()), m.message))
                    .collect();
                field_errors.set(fields);
                message.set(Some(Message::Error(format!(
                    "The service rejected the change: {}",
                    body.summary()
                ))));
            }
            Err(error) => message.set(Some(Message::Error(format!("Not applied. {error}")))),
        }
    };

    let apply = move |_| {
        let (Some(from), Some(to)) = (loaded.get_untracked(), edited.get_untracked()) else {
            return;
        };
        let update = ConfigUpdate::between(&from, &to);
        if update.is_empty() {
            message.set(Some(Message::Info("Nothing to apply: no changes.".into())));
            return;
        }
        busy.set(true);
        let api = shared.api.get_untracked();
        spawn_local(async move {
            let result = api.update_config(&update).await;
            handle_answer(update, result);
            busy.set(false);
        });
    };

    let send_raw = move |_| {
        let text = raw_json.get_untracked();
        // What was sent, as far as it names the three keys, to compare with the answer.
        let sent = serde_json::from_str::<ConfigUpdate>(&text).unwrap_or_default();
        busy.set(true);
        let api = shared.api.get_untracked();
        spawn_local(async move {
            let result = api.update_config_raw(text).await;
            handle_answer(sent, result);
            busy.set(false);
        });
    };

    let dirty = move || loaded.get() != edited.get();
    let queue_is = move |want: &'static str| {
        move || edited.with(|c| c.as_ref().is_some_and(|c| c.queue_type.as_str() == want))
    };
    let error_for = move |field: &'static str| {
        move || {
            field_errors.with(|errors| {
                errors
                    .iter()
                    .find(|(f, _)| f == field)
                    .map(|(_, m)| m.clone())
            })
        }
    };
    let disabled = move || busy.get() || edited.with(Option::is_none);

    view! {
        <Panel testid="config-panel" title="Configuration">
            <form class="config-form" on:submit=|ev| ev.prevent_default() aria-busy=move || busy.get().to_string()>
                <ConfigSwitch
                    key="USE_FAKE_LLM"
                    label="Fake LLM"
                    hint="Use the service's built-in fake LLM instead of a real provider"
                    testid="cfg-fake-llm"
                    edited
                    disabled=Signal::derive(disabled)
                    error=Signal::derive(error_for("USE_FAKE_LLM"))
                    read=|c| c.use_fake_llm
                    write=|c, on| c.use_fake_llm = on
                />
                <ConfigSwitch
                    key="ENABLE_CACHING"
                    label="Caching"
                    hint="Serve repeated questions from the service's cache"
                    testid="cfg-caching"
                    edited
                    disabled=Signal::derive(disabled)
                    error=Signal::derive(error_for("ENABLE_CACHING"))
                    read=|c| c.enable_caching
                    write=|c, on| c.enable_caching = on
                />
                <fieldset class="queue-choice" prop:disabled=disabled>
                    <legend>"Failover queue " <code>"QUEUE_TYPE"</code></legend>
                    <label>
                        <input
                            type="radio"
                            name="queue-type"
                            data-testid="cfg-queue-redis"
                            prop:checked=queue_is("redis")
                            on:change=move |_| edited.update(|c| if let Some(c) = c { c.queue_type = QueueType::Redis })
                        />
                        "Redis"
                    </label>
                    <label>
                        <input
                            type="radio"
                            name="queue-type"
                            data-testid="cfg-queue-kafka"
                            prop:checked=queue_is("kafka")
                            on:change=move |_| edited.update(|c| if let Some(c) = c { c.queue_type = QueueType::Kafka })
                        />
                        "Kafka"
                    </label>
                </fieldset>
                <FieldError error=Signal::derive(error_for("QUEUE_TYPE")) field="QUEUE_TYPE" />
                <div class="config-actions">
                    <button type="button" data-testid="cfg-apply" on:click=apply prop:disabled=move || disabled() || !dirty()>
                        {move || if busy.get() { "Saving…" } else { "Apply" }}
                    </button>
                    <span class="unsaved" data-testid="cfg-unsaved" hidden=move || !dirty()>"Unsaved changes"</span>
                </div>
                <p
                    class="config-message"
                    data-testid="cfg-message"
                    role="status"
                    data-kind=move || match message.get() {
                        Some(Message::Info(_)) => "info",
                        Some(Message::Warning(_)) => "warning",
                        Some(Message::Error(_)) => "error",
                        None => "",
                    }
                >
                    {move || match message.get() {
                        Some(Message::Info(m) | Message::Warning(m) | Message::Error(m)) => m,
                        None => String::new(),
                    }}
                </p>
                <details class="raw-config">
                    <summary>"Edit as JSON"</summary>
                    <p class="hint">"Sent as the body of PUT /admin/config, exactly as written."</p>
                    <textarea
                        data-testid="cfg-raw"
                        rows="3"
                        prop:value=move || raw_json.get()
                        on:input=move |ev| raw_json.set(event_target_value(&ev))
                    ></textarea>
                    <button type="button" data-testid="cfg-raw-send" on:click=send_raw prop:disabled=move || busy.get()>
                        "Send"
                    </button>
                    <FieldError error=Signal::derive(error_for("body")) field="body" />
                </details>
            </form>
        </Panel>
    }
}

/// One of the boolean switches, with the service's message about it.
#[allow(clippy::too_many_arguments)]
#[component]
fn ConfigSwitch(
    key: &'static str,
    label: &'static str,
    hint: &'static str,
    testid: &'static str,
    edited: RwSignal<Option<ServiceConfig>>,
    disabled: Signal<bool>,
    error: Signal<Option<String>>,
    read: fn(&ServiceConfig) -> bool,
    write: fn(&mut ServiceConfig, bool),
) -> impl IntoView {
    view! {
        <label class="switch" title=hint>
            <input
                type="checkbox"
                role="switch"
                data-testid=testid
                prop:checked=move || edited.with(|c| c.as_ref().is_some_and(read))
                prop:disabled=move || disabled.get()
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    edited.update(|c| if let Some(c) = c { write(c, on) });
                }
            />
            <span>{label} " " <code>{key}</code></span>
        </label>
        <FieldError error field=key />
    }
}

/// The service's message about one field, next to it.
#[component]
fn FieldError(error: Signal<Option<String>>, field: &'static str) -> impl IntoView {
    view! {
        <p class="field-error" role="alert" data-testid=format!("cfg-error-{field}") hidden=move || error.with(Option::is_none)>
            {move || error.get().unwrap_or_default()}
        </p>
    }
}
