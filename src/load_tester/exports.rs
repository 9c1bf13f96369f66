//! The last run's exports: JSON and CSV as downloadable object URLs.

use leptos::prelude::*;

use crate::browser::download;

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Exports {
    pub json: Option<String>,
    pub csv: Option<String>,
    pub name: String,
}

impl Exports {
    /// Frees the object URLs (a new run replaces them).
    pub fn revoke(&self) {
        for url in [&self.json, &self.csv].into_iter().flatten() {
            download::revoke(url);
        }
    }
}

#[component]
pub(super) fn ExportLinks(exports: RwSignal<Exports>) -> impl IntoView {
    let link = move |testid: &'static str,
                     label: &'static str,
                     pick: fn(&Exports) -> Option<String>,
                     ending: &'static str| {
        move || {
            exports.with(pick).map(|url| {
                let name = exports.with(|e| format!("{}.{ending}", e.name));
                view! {
                    <a data-testid=testid href=url download=name>
                        {label}
                    </a>
                }
            })
        }
    };
    view! {
        <p class="export-links">
            {link("lt-export-json", "Export JSON", |e| e.json.clone(), "json")}
            {link("lt-export-csv", "Export CSV", |e| e.csv.clone(), "csv")}
        </p>
    }
}
