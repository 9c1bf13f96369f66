//! The runs kept in this browser: the history the load tester's runs and the
//! imported reports join.

use leptos::prelude::*;
use sse_core::load::report::{history_to_json, history_with, RunSummary};

use super::{TesterState, HISTORY_KEY};
use crate::browser::storage;

/// Puts `summary` first in the history, and keeps the history in this
/// browser (a full storage keeps it on the page only: said).
pub(super) fn keep_in_history(state: TesterState, summary: RunSummary) -> Result<(), String> {
    let updated = history_with(state.history.get_untracked(), summary);
    let kept = storage::write(HISTORY_KEY, Some(&history_to_json(&updated)));
    state.history.set(updated);
    kept
}
