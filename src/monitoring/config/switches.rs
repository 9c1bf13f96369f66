//! The three switches: the two booleans and the failover queue's type.

use leptos::prelude::*;
use sse_core::contract::config::{QueueType, ServiceConfig};

use super::{field_error, ConfigState};

#[component]
pub(crate) fn Switches(state: ConfigState) -> impl IntoView {
    let queue_is = move |want: &'static str| {
        move || {
            state
                .edited
                .with(|c| c.as_ref().is_some_and(|c| c.queue_type.as_str() == want))
        }
    };
    let choose = move |queue: QueueType| {
        move |_| {
            state.edited.update(|c| {
                if let Some(c) = c {
                    c.queue_type = queue.clone()
                }
            })
        }
    };
    view! {
        <ConfigSwitch
            state
            key="USE_FAKE_LLM"
            label="Fake LLM"
            testid="cfg-fake-llm"
            hint="Use the service's built-in fake LLM instead of a real provider"
            read=|c| c.use_fake_llm
            write=|c, on| c.use_fake_llm = on
        />
        <ConfigSwitch
            state
            key="ENABLE_CACHING"
            label="Caching"
            testid="cfg-caching"
            hint="Serve repeated questions from the service's cache"
            read=|c| c.enable_caching
            write=|c, on| c.enable_caching = on
        />
        <fieldset class="queue-choice" prop:disabled=move || state.disabled().get()>
            <legend>"Failover queue " <code>"QUEUE_TYPE"</code></legend>
            <label>
                <input
                    type="radio"
                    name="queue-type"
                    data-testid="cfg-queue-redis"
                    prop:checked=queue_is("redis")
                    on:change=choose(QueueType::Redis)
                />
                "Redis"
            </label>
            <label>
                <input
                    type="radio"
                    name="queue-type"
                    data-testid="cfg-queue-kafka"
                    prop:checked=queue_is("kafka")
                    on:change=choose(QueueType::Kafka)
                />
                "Kafka"
            </label>
        </fieldset>
        {field_error(state, "QUEUE_TYPE")}
    }
}

/// One of the boolean switches, with the service's message about it.
#[component]
fn ConfigSwitch(
    state: ConfigState,
    key: &'static str,
    label: &'static str,
    hint: &'static str,
    testid: &'static str,
    read: fn(&ServiceConfig) -> bool,
    write: fn(&mut ServiceConfig, bool),
) -> impl IntoView {
    view! {
        <label class="switch" title=hint>
            <input
                type="checkbox"
                role="switch"
                data-testid=testid
                prop:checked=move || state.edited.with(|c| c.as_ref().is_some_and(read))
                prop:disabled=move || state.disabled().get()
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    state
                        .edited
                        .update(|c| {
                            if let Some(c) = c {
                                write(c, on)
                            }
                        });
                }
            />
            <span>{label} " " <code>{key}</code></span>
        </label>
        {field_error(state, key)}
    }
}
