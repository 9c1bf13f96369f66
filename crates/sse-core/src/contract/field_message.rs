//! A message about one field of a form or request (or about the whole of it):
//! the one shape of "what is wrong here" for the load-test form, the service's
//! 422 answers and the configuration panel.

/// A readable message for one field, or for the whole request (`field: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMessage {
    pub field: Option<String>,
    pub message: String,
}

impl FieldMessage {
    pub fn new(field: &str, message: String) -> Self {
        Self {
            field: Some(field.to_owned()),
            message,
        }
    }
}

/// The first message about `field` (`None` for the whole request), if any.
pub fn message_for(messages: &[FieldMessage], field: Option<&str>) -> Option<String> {
    messages
        .iter()
        .find(|m| m.field.as_deref() == field)
        .map(|m| m.message.clone())
}
