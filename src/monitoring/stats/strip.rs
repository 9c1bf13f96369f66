//! The service strip: requests by status, success share, active connections,
//! cache hit share by tier and queue depth from the last scrape of
//! `/admin/metrics`, each with its rate or change since the previous poll and
//! its trend over the session as a sparkline.

use leptos::prelude::*;
use sse_core::monitoring::service_strip::{sparkline, StripFigure};

use super::StatsState;

const SPARK_WIDTH: f64 = 96.0;
const SPARK_HEIGHT: f64 = 20.0;

fn item(state: &StatsState, figure: StripFigure) -> impl IntoView {
    let id = figure.figure.id();
    let trend = state
        .histories
        .with_value(|h| sparkline(&h.strip.values(id), SPARK_WIDTH, SPARK_HEIGHT));
    view! {
        <div class="strip-item" title=figure.figure.definition()>
            <dt>{figure.figure.label()}</dt>
            <dd
                data-testid=format!("service-{id}")
                data-value=figure.value.map(|v| v.to_string()).unwrap_or_default()
            >
                {figure.text}
            </dd>
            <dd class="strip-detail">{figure.detail}</dd>
            <dd aria-hidden="true">
                <svg
                    class="sparkline"
                    width=SPARK_WIDTH
                    height=SPARK_HEIGHT
                    viewBox=format!("0 0 {SPARK_WIDTH} {SPARK_HEIGHT}")
                >
                    {trend
                        .into_iter()
                        .map(|points| view! { <polyline points=points /> })
                        .collect_view()}
                </svg>
            </dd>
        </div>
    }
}

/// Drawn again at every scrape (the figures and the trend change together).
#[component]
pub(super) fn ServiceStrip(state: StatsState) -> impl IntoView {
    view! {
        <dl
            class="service-strip"
            data-testid="service-strip"
            hidden=move || state.strip.with(Vec::is_empty)
        >
            {move || state.strip.get().into_iter().map(|f| item(&state, f)).collect_view()}
        </dl>
    }
}
