//! A chart's place on the page: the element ECharts draws into (an image for
//! screen readers, with the table beside it holding the figures) and its caption.

use leptos::prelude::*;

#[component]
pub fn ChartFigure(
    /// The element id the chart is drawn into.
    id: &'static str,
    testid: &'static str,
    /// What the chart shows, for screen readers.
    label: &'static str,
    #[prop(into)] caption: Signal<String>,
) -> impl IntoView {
    view! {
        <figure class="chart-figure">
            <div id=id class="chart" data-testid=testid role="img" aria-label=label></div>
            <figcaption>{move || caption.get()}</figcaption>
        </figure>
    }
}
