//! One figure of a summary: a label, the value as a person reads it, the raw
//! value in `data-value` (ms, counts or tokens; empty when absent) and its
//! definition on hover.

use leptos::prelude::*;

#[component]
pub fn Figure(
    label: &'static str,
    definition: &'static str,
    testid: &'static str,
    /// The raw value, `None` when absent.
    #[prop(into)]
    raw: Signal<Option<f64>>,
    /// What a person reads.
    #[prop(into)]
    text: Signal<String>,
) -> impl IntoView {
    view! {
        <div title=definition>
            <dt>{label}</dt>
            <dd
                data-testid=testid
                data-value=move || raw.get().map(|v| v.to_string()).unwrap_or_default()
            >
                {move || text.get()}
            </dd>
        </div>
    }
}
