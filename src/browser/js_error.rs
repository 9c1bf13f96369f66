//! JavaScript errors as sentences.

use wasm_bindgen::JsCast;

/// A JavaScript error (an `Error`, a string, or anything else) as a sentence.
pub fn describe(error: &wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
