//! The load tester as a module of its own, loaded by the dashboard when the
//! person opens it (trunk builds it as `load_tester.js` + `load_tester_bg.wasm`).
//! Keeping it out of the main module keeps the dashboard's first load within
//! its budget: the monitoring panels do not wait for the load tester's code.
//!
//! The dashboard calls `mount` once with its API settings, and `set_api`
//! whenever the person changes them.

#[cfg(target_arch = "wasm32")]
mod module {
    use std::cell::RefCell;

    use leptos::prelude::*;
    use perf_dashboard::app::Shared;
    use perf_dashboard::load_tester::LoadTester;
    use wasm_bindgen::prelude::*;

    thread_local! {
        static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    }

    fn apply(shared: &Shared, api_base: String, admin_token: Option<String>) {
        shared.settings.update(|s| {
            s.api_base = api_base;
            s.admin_token = admin_token.filter(|t| !t.is_empty());
        });
    }

    /// Mounts the load tester into the element with `element_id`.
    #[wasm_bindgen]
    pub fn mount(
        element_id: &str,
        api_base: String,
        admin_token: Option<String>,
    ) -> Result<(), JsValue> {
        let element = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(element_id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            .ok_or_else(|| JsValue::from_str("no element to mount the load tester in"))?;
        let shared = Shared::new();
        apply(&shared, api_base, admin_token);
        SHARED.with(|s| *s.borrow_mut() = Some(shared));
        leptos::mount::mount_to(element, move || {
            provide_context(shared);
            view! { <LoadTester /> }
        })
        .forget();
        Ok(())
    }

    /// New API settings from the dashboard.
    #[wasm_bindgen]
    pub fn set_api(api_base: String, admin_token: Option<String>) {
        SHARED.with(|s| {
            if let Some(shared) = s.borrow().as_ref() {
                apply(shared, api_base, admin_token);
            }
        });
    }

    pub fn start() {
        perf_dashboard::panic_report::install();
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    module::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("load_tester is a module of the dashboard: build it with trunk (see README.md)");
}
