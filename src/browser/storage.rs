//! This browser's localStorage: the only place that reads or writes it.

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The value kept under `key`, when there is a non-empty one.
pub fn read(key: &str) -> Option<String> {
    local_storage()?
        .get_item(key)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

/// Keeps `value` under `key` (`None` removes it). `Err` says why it was not
/// kept (storage off, full): the caller decides whether that matters.
pub fn write(key: &str, value: Option<&str>) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no local storage")?;
    match value {
        Some(value) => storage.set_item(key, value),
        None => storage.remove_item(key),
    }
    .map_err(|e| {
        format!(
            "the browser did not keep it ({})",
            super::js_error::describe(&e)
        )
    })
}
