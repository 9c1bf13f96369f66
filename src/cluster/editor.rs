//! The editor of the instances behind the balancer, opened from Settings:
//! one per line, `name [API base]` (a name alone is reached through the
//! dashboard's nginx at `/instances/<name>/api/v1`). Saved in this browser
//! (config.json's JSON form), then the page reloads into the new mode.

use leptos::prelude::*;
use sse_core::contract::dashboard_settings::{instances_json, validate_api_base};
use sse_core::contract::instances::{list_text, parse_list, Instance};

use crate::browser::storage;
use crate::monitoring::settings::STORED_INSTANCES;

#[component]
pub fn InstancesEditor(current: Vec<Instance>) -> impl IntoView {
    let text = RwSignal::new(list_text(&current));
    let message = RwSignal::new(String::new());
    let save = move |_| match parse_list(&text.get_untracked(), validate_api_base) {
        Err(problem) => message.set(format!("Not saved. {problem}")),
        Ok(list) => match storage::write(STORED_INSTANCES, Some(&instances_json(&list))) {
            Err(why) => message.set(format!("Not saved: {why}.")),
            Ok(()) => {
                message.set(format!(
                    "Saved {} instances; reloading the page.",
                    list.len()
                ));
                if let Some(location) = web_sys::window().map(|w| w.location()) {
                    let _ = location.reload();
                }
            }
        },
    };
    view! {
        <div class="instances-editor">
            <label>
                "Instances, one per line: name [API base]; empty: one service"
                <textarea
                    rows="4"
                    data-testid="settings-instances"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    placeholder="app-1\napp-2 /instances/app-2/api/v1"
                ></textarea>
            </label>
            <button type="button" data-testid="settings-instances-save" on:click=save>
                "Save instances"
            </button>
            <p class="settings-message" role="status" data-testid="settings-instances-message">
                {move || message.get()}
            </p>
        </div>
    }
}
