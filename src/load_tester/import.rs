//! "Import a report": a report written by `sse-load --report` (or exported
//! here) joins the history, to be inspected and compared with the browser's
//! runs. A file picker (`lt-import`) and drag and drop onto the history; what
//! was imported, or why not, is said (`lt-import-message`); a file that is
//! no report, or of another schema version, changes nothing.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::format;
use sse_core::load::report::parse_report;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::saved::keep_in_history;
use super::TesterState;
use crate::browser::clock::time_of_day;
use crate::browser::js_error;
use crate::state::RunWindow;

/// The largest report read (a run of 100,000 requests is about 60 MB).
const MAX_REPORT_BYTES: f64 = 100.0 * 1024.0 * 1024.0;

/// Reads `file` and keeps the report it holds; the sentence to show.
async fn import(state: TesterState, file: web_sys::File) -> String {
    let name = file.name();
    if file.size() > MAX_REPORT_BYTES {
        return format!(
            "Not imported: {name} is {} MB, more than a report of 100,000 requests. Nothing changed.",
            (file.size() / 1_048_576.0).round()
        );
    }
    let text = match JsFuture::from(file.text()).await {
        Ok(text) => text.as_string().unwrap_or_default(),
        Err(error) => {
            return format!(
                "Not imported: {name} could not be read ({}).",
                js_error::describe(&error)
            )
        }
    };
    let summary = match parse_report(&text) {
        Ok(summary) => summary,
        Err(why) => return format!("Not imported: {name}: {why} Nothing changed."),
    };
    let said = format!(
        "Imported {name}: a run by {} at {}, {} requests ({} completed, {} failed).",
        summary.origin.id(),
        time_of_day(summary.started_at_ms),
        format::count(summary.requests),
        format::count(summary.completed),
        format::count(summary.failed),
    );
    let window = RunWindow {
        start_ms: summary.started_at_ms,
        end_ms: Some(summary.started_at_ms + summary.wall_ms),
        label: format!("{} report {name}", summary.origin.id()),
    };
    state.app.run_windows.update(|w| w.push(window));
    match keep_in_history(state, summary) {
        Ok(()) => said,
        Err(why) => format!("{said} It is on this page, but not kept in this browser: {why}."),
    }
}

/// Imports the first file of `files`, if any.
fn import_first(state: TesterState, files: Option<web_sys::FileList>, message: RwSignal<String>) {
    let Some(file) = files.and_then(|f| f.get(0)) else {
        return;
    };
    message.set(format!("Reading {}…", file.name()));
    spawn_local(async move {
        let said = import(state, file).await;
        message.try_set(said);
    });
}

#[component]
pub(super) fn ImportReport(state: TesterState, message: RwSignal<String>) -> impl IntoView {
    let picked = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        import_first(state, input.as_ref().and_then(|i| i.files()), message);
        // The same file picked again imports again.
        if let Some(input) = input {
            input.set_value("");
        }
    };
    view! {
        <div class="import-report">
            <label title="A report exported here or written by sse-load --report (JSON). Drop one onto the history, or pick it.">
                "Import a report "
                <input
                    type="file"
                    accept=".json,application/json"
                    data-testid="lt-import"
                    on:change=picked
                />
            </label>
            <p class="import-message" role="status" data-testid="lt-import-message">
                {move || message.get()}
            </p>
        </div>
    }
}

/// Drop handlers for the history: a dropped file is imported like a picked one.
pub(super) fn drop_target(
    state: TesterState,
    message: RwSignal<String>,
) -> (
    impl Fn(leptos::ev::DragEvent) + Copy,
    impl Fn(leptos::ev::DragEvent) + Copy,
) {
    let over = move |ev: leptos::ev::DragEvent| ev.prevent_default();
    let dropped = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        import_first(state, ev.data_transfer().and_then(|d| d.files()), message);
    };
    (over, dropped)
}
