//! The panel's message after an action, from the service's answer: applied,
//! kept other values than sent (named), or rejected (per field for a 422).

use leptos::prelude::*;
use sse_core::contract::config::ConfigUpdate;

use super::ConfigState;
use crate::api::{ApiError, ConfigAnswer};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Message {
    Info(String),
    Warning(String),
    Error(String),
}

/// Shows the answer to sending `sent`.
pub(super) fn show(
    state: ConfigState,
    sent: &ConfigUpdate,
    result: Result<ConfigAnswer, ApiError>,
) {
    state.field_errors.set(Vec::new());
    let message = match result {
        Ok(ConfigAnswer { answer, warnings }) => {
            let mut notes: Vec<String> = sent
                .not_applied(&answer.current_config)
                .iter()
                .map(|k| {
                    format!(
                        "The service kept {} = {} although {} was sent.",
                        k.key, k.kept, k.sent
                    )
                })
                .collect();
            notes.extend(warnings);
            state.loaded.set(Some(answer.current_config.clone()));
            state.edited.set(Some(answer.current_config));
            if notes.is_empty() {
                Message::Info("Applied. The service now reports the values shown.".into())
            } else {
                Message::Warning(notes.join(" "))
            }
        }
        Err(ApiError::Http { status: 422, body }) => {
            let mut fields = body.field_messages();
            for m in &mut fields {
                m.field.get_or_insert_with(|| "body".into());
            }
            state.field_errors.set(fields);
            Message::Error(format!(
                "The service rejected the change: {}",
                body.summary()
            ))
        }
        Err(error) => Message::Error(format!("Not applied. {error}")),
    };
    state.message.set(Some(message));
}

#[component]
pub(crate) fn ConfigMessage(message: RwSignal<Option<Message>>) -> impl IntoView {
    let kind = move || match message.get() {
        Some(Message::Info(_)) => "info",
        Some(Message::Warning(_)) => "warning",
        Some(Message::Error(_)) => "error",
        None => "",
    };
    let text = move || match message.get() {
        Some(Message::Info(m) | Message::Warning(m) | Message::Error(m)) => m,
        None => String::new(),
    };
    view! {
        <p class="config-message" data-testid="cfg-message" role="status" data-kind=kind>
            {text}
        </p>
    }
}
