//! A part loaded on demand, shown where it belongs: nothing while its chunk
//! arrives, its message (`testid`) when it did not.

use std::future::Future;

use leptos::prelude::*;

use crate::browser::split::PartError;

#[component]
pub fn OnDemand<F, Fut>(
    /// Loads the part and builds its view (an `on_demand!` function).
    load: F,
    /// The `data-testid` of the message shown when the part did not load.
    testid: &'static str,
) -> impl IntoView
where
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, PartError>> + 'static,
{
    view! {
        <Suspense fallback=|| ()>
            // The part's future stays on this (the only) thread.
            {move || Suspend::new(
                send_wrapper::SendWrapper::new(async move {
                    load()
                        .await
                        .unwrap_or_else(|error| {
                            view! {
                                <p class="field-error" role="alert" data-testid=testid>
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        })
                }),
            )}
        </Suspense>
    }
}
