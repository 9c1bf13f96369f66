//! The configuration panel: the service's three runtime switches, applied
//! with only the changed keys, and the service's answer compared with what
//! was sent.

mod answer;
mod raw;
mod switches;

pub(crate) use answer::{ConfigMessage as ConfigMessageLine, Message as ConfigNote};
pub(crate) use switches::Switches;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::config::{ConfigUpdate, ServiceConfig};
use sse_core::contract::field_message::{message_for, FieldMessage};

use crate::api::ApiClient;
use crate::state::AppState;
use crate::ui::{FieldError, Panel};
use answer::{ConfigMessage, Message};

/// What the panel's parts share.
#[derive(Clone, Copy)]
pub(crate) struct ConfigState {
    /// As the service last reported it.
    pub(crate) loaded: RwSignal<Option<ServiceConfig>>,
    /// As the person set the controls.
    pub(crate) edited: RwSignal<Option<ServiceConfig>>,
    pub(crate) busy: RwSignal<bool>,
    pub(crate) message: RwSignal<Option<Message>>,
    /// The service's messages per field (from a 422).
    field_errors: RwSignal<Vec<FieldMessage>>,
    api: Memo<ApiClient>,
}

impl ConfigState {
    pub(crate) fn new(api: Memo<ApiClient>) -> Self {
        Self {
            loaded: RwSignal::new(None),
            edited: RwSignal::new(None),
            busy: RwSignal::new(false),
            message: RwSignal::new(None),
            field_errors: RwSignal::new(Vec::new()),
            api,
        }
    }

    fn disabled(self) -> Signal<bool> {
        Signal::derive(move || self.busy.get() || self.edited.with(Option::is_none))
    }

    fn error_for(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || self.field_errors.with(|e| message_for(e, Some(field))))
    }

    /// Sends `update` (or `raw` JSON as written) and shows the answer.
    fn send(self, update: ConfigUpdate, raw: Option<String>) {
        self.busy.set(true);
        let api = self.api.get_untracked();
        spawn_local(async move {
            let result = match raw {
                Some(json) => api.update_config_raw(json).await,
                None => api.update_config(&update).await,
            };
            answer::show(self, &update, result);
            self.busy.set(false);
        });
    }

    fn load(self, api: ApiClient) {
        self.busy.set(true);
        spawn_local(async move {
            match api.config().await {
                Ok(config) => {
                    self.loaded.set(Some(config.clone()));
                    self.edited.set(Some(config));
                    self.message.set(None);
                }
                Err(error) => self.message.set(Some(Message::Error(format!(
                    "Could not load the configuration. {error}"
                )))),
            }
            self.busy.set(false);
        });
    }
}

#[component]
pub fn ConfigPanel() -> impl IntoView {
    let app = AppState::get();
    let state = ConfigState::new(app.api);
    // Load at start, again after every reconnect and when the API base or the
    // admin token changes. The first Connected after a start whose load
    // succeeded (or is under way) is no reconnect: no second request.
    Effect::new(move |previous: Option<(u64, ApiClient)>| {
        let now = (app.connections.get(), app.api.get());
        let first_connect = matches!(&previous, Some((0, api)) if now.0 == 1 && *api == now.1);
        if !(first_connect
            && (state.loaded.with_untracked(Option::is_some) || state.busy.get_untracked()))
        {
            state.load(now.1.clone());
        }
        now
    });
    let dirty = move || state.loaded.get() != state.edited.get();
    let apply = move |_| {
        let (Some(from), Some(to)) = (state.loaded.get_untracked(), state.edited.get_untracked())
        else {
            return;
        };
        let update = ConfigUpdate::between(&from, &to);
        if update.is_empty() {
            state
                .message
                .set(Some(Message::Info("Nothing to apply: no changes.".into())));
        } else {
            state.send(update, None);
        }
    };
    let disabled = state.disabled();
    view! {
        <Panel testid="config-panel" title="Configuration">
            <form
                class="config-form"
                on:submit=|ev| ev.prevent_default()
                aria-busy=move || state.busy.get().to_string()
            >
                <switches::Switches state />
                <div class="config-actions">
                    <button
                        type="button"
                        data-testid="cfg-apply"
                        on:click=apply
                        prop:disabled=move || disabled.get() || !dirty()
                    >
                        {move || if state.busy.get() { "Saving…" } else { "Apply" }}
                    </button>
                    <span class="unsaved" data-testid="cfg-unsaved" hidden=move || !dirty()>
                        "Unsaved changes"
                    </span>
                </div>
                <ConfigMessage message=state.message />
                <raw::RawConfig state />
            </form>
        </Panel>
    }
}

/// The service's message about `field`, next to it.
fn field_error(state: ConfigState, field: &'static str) -> impl IntoView {
    view! { <FieldError testid=format!("cfg-error-{field}") error=state.error_for(field) /> }
}
