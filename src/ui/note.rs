//! A one-paragraph note beside a figure (what was left out, why two sources
//! disagree): hidden while its text is empty.

use leptos::prelude::*;

#[component]
pub fn Note(
    class: &'static str,
    testid: &'static str,
    #[prop(into)] text: Signal<String>,
) -> impl IntoView {
    view! {
        <p class=class data-testid=testid role="note" hidden=move || text.with(String::is_empty)>
            {move || text.get()}
        </p>
    }
}
