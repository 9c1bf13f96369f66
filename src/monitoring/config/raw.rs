//! "Edit as JSON": a body for PUT /admin/config, sent exactly as written.

use leptos::prelude::*;
use sse_core::contract::config::ConfigUpdate;

use super::{field_error, ConfigState};

#[component]
pub(super) fn RawConfig(state: ConfigState) -> impl IntoView {
    let raw_json = RwSignal::new(String::from("{\"USE_FAKE_LLM\": true}"));
    let send = move |_| {
        let text = raw_json.get_untracked();
        // What was sent, as far as it names the three keys, to compare with the answer.
        let sent = serde_json::from_str::<ConfigUpdate>(&text).unwrap_or_default();
        state.send(sent, Some(text));
    };
    view! {
        <details class="raw-config">
            <summary>"Edit as JSON"</summary>
            <p class="hint">"Sent as the body of PUT /admin/config, exactly as written."</p>
            <textarea
                data-testid="cfg-raw"
                rows="3"
                prop:value=move || raw_json.get()
                on:input=move |ev| raw_json.set(event_target_value(&ev))
            ></textarea>
            <button
                type="button"
                data-testid="cfg-raw-send"
                on:click=send
                prop:disabled=move || state.busy.get()
            >
                "Send"
            </button>
            {field_error(state, "body")}
        </details>
    }
}
