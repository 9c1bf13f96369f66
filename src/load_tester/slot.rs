//! The load tester's place on the dashboard, in the first load. The load
//! tester itself is a part loaded on demand ([`super::load_tester_view`]),
//! fetched when the person opens it, so that the monitoring panels do not
//! wait for it.

use leptos::prelude::*;

use super::load_tester_view;
use crate::ui::{FieldError, Panel};

#[derive(Debug, Clone, PartialEq)]
enum SlotState {
    Closed,
    Loading,
    Open,
    Failed(String),
}

impl SlotState {
    fn word(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Loading => "loading",
            Self::Open => "open",
            Self::Failed(_) => "failed",
        }
    }
}

#[component]
pub fn LoadTesterSlot() -> impl IntoView {
    let state = RwSignal::new(SlotState::Closed);
    let open = move |_| {
        if matches!(
            state.get_untracked(),
            SlotState::Closed | SlotState::Failed(_)
        ) {
            state.set(SlotState::Loading);
        }
    };
    // Built once per opening: Loading -> Open keeps the load tester in place.
    let shown =
        Memo::new(move |_| state.with(|s| matches!(s, SlotState::Loading | SlotState::Open)));
    let tester = move || {
        shown.get().then(|| {
            view! {
                <Suspense fallback=|| ()>
                    {Suspend::new(
                        send_wrapper::SendWrapper::new(async move {
                            match load_tester_view().await {
                                Ok(view) => {
                                    state.set(SlotState::Open);
                                    Some(view)
                                }
                                Err(error) => {
                                    state.set(SlotState::Failed(error.to_string()));
                                    None
                                }
                            }
                        }),
                    )}
                </Suspense>
            }
        })
    };
    let loading = move || state.with(|s| *s == SlotState::Loading);
    let failure = move || match state.get() {
        SlotState::Failed(e) => Some(format!("The load tester did not open: {e}")),
        _ => None,
    };
    view! {
        <Panel testid="load-tester" title="Load tester">
            <div
                class="load-tester-intro"
                data-testid="lt-slot"
                data-state=move || state.with(SlotState::word)
                hidden=move || state.with(|s| *s == SlotState::Open)
            >
                <p class="panel-note">
                    "Concurrent POST /stream requests from this browser, each read as a stream: live counts, tokens, "
                    "and TTFT, ITL, TPOT and E2E percentiles. Its code loads when you open it, so that the "
                    "monitoring above does not wait for it."
                </p>
                <button
                    type="button"
                    class="primary"
                    data-testid="lt-open"
                    on:click=open
                    prop:disabled=loading
                >
                    {move || if loading() { "Loading…" } else { "Open the load tester" }}
                </button>
            </div>
            <FieldError testid="lt-load-error".to_owned() error=Signal::derive(failure) />
            {tester}
        </Panel>
    }
}
