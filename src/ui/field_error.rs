//! The message about one field, next to it (both forms use it).

use leptos::prelude::*;

/// Hidden while `error` is `None`; announced when it appears.
#[component]
pub fn FieldError(testid: String, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <span
            class="field-error"
            role="alert"
            data-testid=testid
            hidden=move || error.with(Option::is_none)
        >
            {move || error.get()}
        </span>
    }
}
