//! What every field of the form has: its message beside it, and the handler
//! that writes what is typed into the form.

use leptos::prelude::*;
use sse_core::contract::field_message::message_for;
use sse_core::load::plan::LoadForm;

use crate::load_tester::TesterState;
use crate::ui::FieldError;

/// The message about `field`, beside it (`lt-error-<field>`).
pub(super) fn error(state: TesterState, field: &'static str) -> impl IntoView {
    let message = Signal::derive(move || state.problems.with(|p| message_for(p, Some(field))));
    view! { <FieldError testid=format!("lt-error-{field}") error=message /> }
}

/// An input handler writing the field `write` sets.
pub(super) fn set(
    state: TesterState,
    write: fn(&mut LoadForm, String),
) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| state.form.update(|f| write(f, event_target_value(&ev)))
}
