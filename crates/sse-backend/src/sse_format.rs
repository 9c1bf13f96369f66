//! Writes events the way the real service does: `event: NAME\ndata: JSON\n\n`,
//! with Python's `json.dumps` spacing (`", "` and `": "`), and `data: [DONE]`.

use serde::Serialize;

/// serde_json formatter with Python's default separators.
struct PythonStyle;

/// `", "` before every element but the first.
fn separator<W: ?Sized + std::io::Write>(writer: &mut W, first: bool) -> std::io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl serde_json::ser::Formatter for PythonStyle {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// `value` as JSON with Python's spacing.
pub fn python_json(value: &impl Serialize) -> String {
    let mut out = Vec::with_capacity(96);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
    // Serializing our own plain structs into memory cannot fail.
    if value.serialize(&mut serializer).is_err() {
        return "{}".to_owned();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// One named event.
pub fn event(name: &str, data: &impl Serialize) -> String {
    format!("event: {name}\ndata: {}\n\n", python_json(data))
}

/// The end-of-stream marker.
pub const DONE: &str = "data: [DONE]\n\n";

/// A keep-alive comment (sent while a request waits in the failover queue).
pub const PING: &str = ": ping\n\n";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_the_real_service_bytes() {
        let data = json!({"content": "Rank ", "chunk_index": 1, "finish_reason": null});
        // serde_json's map keeps keys sorted; the structs the service uses keep field order.
        assert_eq!(
            event("chunk", &data),
            "event: chunk\ndata: {\"chunk_index\": 1, \"content\": \"Rank \", \"finish_reason\": null}\n\n"
        );
        assert_eq!(python_json(&json!([1, [2, 3]])), "[1, [2, 3]]");
    }
}
