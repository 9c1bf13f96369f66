//! The page's ECharts instances. charming describes each chart's parts
//! (axes, series, legend, tooltip); this module puts them in one option, hands
//! it to the global `echarts` (loaded asynchronously, see index.html) as JSON,
//! creates each chart once and keeps it at its container's size.
//!
//! Why not charming's `Chart` and `WasmRenderer`: serialising a `Chart` links
//! the serialisers of every series type and component ECharts has (about 40 KB
//! of the gzipped bundle), and the renderer unwraps; this option holds only
//! what the dashboard draws, and nothing here can panic.

use charming::component::{Axis, Grid, Legend, LegendType};
use charming::element::{Tooltip, Trigger};
use charming::series::{Bar, Line};
use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// An ECharts instance.
    pub type Instance;

    #[wasm_bindgen(catch, js_namespace = echarts, js_name = init)]
    fn init(element: &web_sys::Element, theme: JsValue) -> Result<Instance, JsValue>;

    #[wasm_bindgen(catch, method, js_name = setOption)]
    fn set_option(this: &Instance, option: JsValue, not_merge: bool) -> Result<(), JsValue>;

    #[wasm_bindgen(method)]
    fn resize(this: &Instance);

    #[wasm_bindgen(method)]
    fn dispose(this: &Instance);
}

/// Whether the ECharts script has run.
pub fn loaded() -> bool {
    web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &"echarts".into()).unwrap_or(false))
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// A chart on the page: the ECharts instance and what keeps it at its
/// container's size.
pub struct DrawnChart {
    instance: Instance,
    _size: Option<SizeFollower>,
}

impl Drop for DrawnChart {
    fn drop(&mut self) {
        self.instance.dispose();
    }
}

/// Resizes a chart whenever its element changes size; stops when dropped.
struct SizeFollower {
    observer: web_sys::ResizeObserver,
    _on_resize: Closure<dyn Fn()>,
}

impl Drop for SizeFollower {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

fn follow_size(instance: &Instance, element: &web_sys::Element) -> Option<SizeFollower> {
    let target: Instance = AsRef::<JsValue>::as_ref(instance).clone().unchecked_into();
    let on_resize = Closure::<dyn Fn()>::new(move || target.resize());
    let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok()?;
    observer.observe(element);
    Some(SizeFollower {
        observer,
        _on_resize: on_resize,
    })
}

/// Series colours that read on the light and on the dark background alike
/// (ECharts' default palette has a dark slate third colour that all but
/// vanishes on the dark theme).
const PALETTE: [&str; 8] = [
    "#5b8ff9", "#5ad8a6", "#f6bd16", "#e8684a", "#6dc8ec", "#9270ca", "#ff9d4d", "#ff99c3",
];

/// A cartesian chart: one category axis, one value axis, bars or lines.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartOption {
    background_color: &'static str,
    color: [&'static str; 8],
    legend: Legend,
    tooltip: Tooltip,
    grid: Grid,
    x_axis: Axis,
    y_axis: Axis,
    series: Vec<Series>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Series {
    Bar(Box<Bar>),
    Line(Box<Line>),
}

impl ChartOption {
    /// A chart with its legend below it and an axis tooltip. A plain legend
    /// (no scrolling: every chart has a few series, and ECharts' scroll
    /// legend would add to the first load's bundle).
    pub fn new(x_axis: Axis, y_axis: Axis) -> Self {
        ChartOption {
            background_color: "transparent",
            color: PALETTE,
            legend: Legend::new().type_(LegendType::Plain).top("bottom"),
            tooltip: Tooltip::new().trigger(Trigger::Axis),
            grid: Grid::new()
                .left("3%")
                .right("4%")
                .top("8%")
                .bottom("18%")
                .contain_label(true),
            x_axis,
            y_axis,
            series: Vec::new(),
        }
    }

    /// Every legend entry in view, in rows that wrap (no paging), with room
    /// below the plot for them.
    pub fn wrapped_legend(mut self) -> Self {
        self.legend = Legend::new().type_(LegendType::Plain).top("bottom");
        self.grid = Grid::new()
            .left("3%")
            .right("4%")
            .top("8%")
            .bottom("32%")
            .contain_label(true);
        self
    }

    pub fn bar(mut self, bar: Bar) -> Self {
        self.series.push(Series::Bar(Box::new(bar)));
        self
    }

    pub fn line(mut self, line: Line) -> Self {
        self.series.push(Series::Line(Box::new(line)));
        self
    }
}

/// A chart with two value axes (left: `y_axes[0]`, right: `y_axes[1]`); a
/// line goes to the right one with `y_axis_index(1)`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TwoAxisChart {
    #[serde(flatten)]
    base: TwoAxisBase,
    y_axis: [Axis; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TwoAxisBase {
    background_color: &'static str,
    color: [&'static str; 8],
    legend: Legend,
    tooltip: Tooltip,
    grid: Grid,
    x_axis: Axis,
    series: Vec<Series>,
}

/// A chart drawn without ECharts' transition animation: each redraw is one
/// frame, never a second of frames (the load tester redraws while it sends).
#[derive(Serialize)]
pub struct Unanimated<'a, T: Serialize> {
    #[serde(flatten)]
    pub chart: &'a T,
    pub animation: bool,
}

/// Draws `chart` without animation (see [`Unanimated`]).
pub fn draw_unanimated(
    handle: StoredValue<Option<DrawnChart>, LocalStorage>,
    id: &str,
    chart: &impl Serialize,
    replace: bool,
) {
    let option = option_of(&Unanimated {
        chart,
        animation: false,
    });
    draw_option(handle, id, option, replace);
}

impl TwoAxisChart {
    pub fn new(x_axis: Axis, left: Axis, right: Axis) -> Self {
        let ChartOption {
            background_color,
            color,
            legend,
            tooltip,
            grid,
            ..
        } = ChartOption::new(Axis::new(), Axis::new());
        Self {
            base: TwoAxisBase {
                background_color,
                color,
                legend,
                tooltip,
                grid,
                x_axis,
                series: Vec::new(),
            },
            y_axis: [left, right],
        }
    }

    pub fn line(mut self, line: Line) -> Self {
        self.base.series.push(Series::Line(Box::new(line)));
        self
    }
}

/// A chart option as ECharts takes it.
pub fn option_of(chart: &impl Serialize) -> Option<JsValue> {
    let json = serde_json::to_string(chart).ok()?;
    js_sys::JSON::parse(&json).ok()
}

/// Renders `chart` into the element with `id` the first time, then updates
/// the same instance in place. Does nothing before ECharts has loaded.
/// `replace` drops series the new option no longer has (a merge keeps them).
pub fn draw(
    handle: StoredValue<Option<DrawnChart>, LocalStorage>,
    id: &str,
    chart: &ChartOption,
    replace: bool,
) {
    if loaded() {
        draw_option(handle, id, option_of(chart), replace);
    }
}

/// [`draw`] in a task of its own: what arrived together with the figures
/// (another panel's answer, the status) is shown first, since drawing a chart
/// takes tens of milliseconds. Nothing happens if the chart left the page by then.
pub fn draw_later(
    handle: StoredValue<Option<DrawnChart>, LocalStorage>,
    id: &'static str,
    chart: ChartOption,
    replace: bool,
) {
    gloo_timers::callback::Timeout::new(0, move || {
        if !handle.is_disposed() {
            draw(handle, id, &chart, replace);
        }
    })
    .forget();
}

/// [`draw`] for an option built elsewhere (see [`option_of`]).
pub fn draw_option(
    handle: StoredValue<Option<DrawnChart>, LocalStorage>,
    id: &str,
    option: Option<JsValue>,
    replace: bool,
) {
    let Some(option) = option.filter(|_| loaded()) else {
        return;
    };
    let updated = handle.with_value(|drawn| {
        drawn
            .as_ref()
            .map(|drawn| drawn.instance.set_option(option.clone(), replace).is_ok())
    });
    if updated.is_some() {
        return;
    }
    let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    else {
        return;
    };
    // ECharts' dark theme in a dark page (the system setting at the chart's creation).
    let theme = if prefers_dark() {
        JsValue::from_str("dark")
    } else {
        JsValue::UNDEFINED
    };
    let Ok(instance) = init(&element, theme) else {
        return;
    };
    if instance.set_option(option, true).is_err() {
        instance.dispose();
        return;
    }
    let size = follow_size(&instance, &element);
    handle.set_value(Some(DrawnChart {
        instance,
        _size: size,
    }));
}
