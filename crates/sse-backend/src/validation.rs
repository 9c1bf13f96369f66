//! Stage 1: the `/stream` body checked as the real service (FastAPI + pydantic)
//! checks it, with its 422 `{"detail":[...]}` answers.

use serde_json::{json, Value};
use sse_core::contract::stream::{StreamRequest, QUERY_MAX_CHARS};

use crate::provider::KNOWN_PROVIDERS;

fn issue(kind: &str, field: &str, msg: &str, input: &Value) -> Value {
    json!({ "type": kind, "loc": ["body", field], "msg": msg, "input": input })
}

fn string_field(body: &Value, field: &str, problems: &mut Vec<Value>) -> Option<String> {
    match body.get(field) {
        None => {
            problems.push(issue("missing", field, "Field required", body));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(issue(
                "string_type",
                field,
                "Input should be a valid string",
                other,
            ));
            None
        }
    }
}

/// The request, or the 422 body.
pub fn validate(body: &[u8]) -> Result<StreamRequest, Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            // FastAPI reports the byte position of the JSON error.
            let position = e.column().saturating_sub(1);
            return Err(json!({ "detail": [{
                "type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
                "input": {}, "ctx": { "error": e.to_string() }
            }]}));
        }
    };
    if !value.is_object() {
        return Err(json!({ "detail": [{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": value
        }]}));
    }
    let mut problems = Vec::new();
    let query = string_field(&value, "query", &mut problems);
    if let Some(query) = &query {
        let chars = query.chars().count();
        if chars == 0 {
            let mut i = issue(
                "string_too_short",
                "query",
                "String should have at least 1 character",
                &json!(query),
            );
            i["ctx"] = json!({ "min_length": 1 });
            problems.push(i);
        } else if chars > QUERY_MAX_CHARS {
            let msg = format!("String should have at most {QUERY_MAX_CHARS} characters");
            let mut i = issue(
                "string_too_long",
                "query",
                &msg,
                &json!(format!("{}...", query.chars().take(40).collect::<String>())),
            );
            i["ctx"] = json!({ "max_length": QUERY_MAX_CHARS });
            problems.push(i);
        }
    }
    let model = string_field(&value, "model", &mut problems);
    if let Some(model) = &model {
        if model.trim().is_empty() {
            problems.push(issue(
                "value_error",
                "model",
                "Value error, model must not be blank",
                &json!(model),
            ));
        }
    }
    let provider = match value.get("provider") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if KNOWN_PROVIDERS.contains(&p.to_lowercase().as_str()) => {
            Some(p.to_lowercase())
        }
        Some(Value::String(p)) => {
            let msg = format!(
                "Value error, unknown provider '{p}'; known providers: {}",
                KNOWN_PROVIDERS.join(", ")
            );
            problems.push(issue("value_error", "provider", &msg, &json!(p)));
            None
        }
        Some(other) => {
            problems.push(issue(
                "string_type",
                "provider",
                "Input should be a valid string",
                other,
            ));
            None
        }
    };
    match (query, model) {
        (Some(query), Some(model)) if problems.is_empty() => Ok(StreamRequest {
            query,
            model,
            provider,
        }),
        _ => Err(json!({ "detail": problems })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_core::contract::api_error::ApiErrorBody;

    fn fields(body: &[u8]) -> Vec<Option<String>> {
        let answer = validate(body).expect_err("invalid");
        ApiErrorBody::parse(&answer.to_string())
            .field_messages()
            .into_iter()
            .map(|m| m.field)
            .collect()
    }

    #[test]
    fn valid_body_with_extra_fields_passes() {
        let request = validate(
            br#"{"query":"hi","model":"gpt-3.5-turbo","provider":"OpenAI","stream":true}"#,
        )
        .expect("valid");
        assert_eq!(request.provider.as_deref(), Some("openai"));
    }

    #[test]
    fn each_problem_is_reported_on_its_field() {
        assert_eq!(
            fields(br#"{"query":"","model":" "}"#),
            vec![Some("query".into()), Some("model".into())]
        );
        assert_eq!(fields(br#"{"model":"m"}"#), vec![Some("query".into())]);
        assert_eq!(
            fields(br#"{"query":1,"model":"m","provider":"nope"}"#),
            vec![Some("query".into()), Some("provider".into())]
        );
        let long = format!(
            r#"{{"query":"{}","model":"m"}}"#,
            "x".repeat(QUERY_MAX_CHARS + 1)
        );
        assert_eq!(fields(long.as_bytes()), vec![Some("query".into())]);
    }

    #[test]
    fn malformed_json_is_json_invalid() {
        let answer = validate(b"{\"query\": ").expect_err("invalid");
        assert_eq!(answer["detail"][0]["type"], "json_invalid");
        assert_eq!(
            validate(b"[1]").expect_err("not an object")["detail"][0]["type"],
            "model_attributes_type"
        );
    }
}
