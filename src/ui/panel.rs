//! The frame every component area shares: a titled section with a stable test id.

use leptos::prelude::*;

#[component]
pub fn Panel(testid: &'static str, title: &'static str, children: Children) -> impl IntoView {
    let title_id = format!("{testid}-title");
    let labelled_by = title_id.clone();
    view! {
        <section class="panel" data-testid=testid aria-labelledby=labelled_by>
            <h2 id=title_id>{title}</h2>
            {children()}
        </section>
    }
}
