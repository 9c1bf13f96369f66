//! `GET/PUT /admin/config`: the service's three runtime switches.

use serde::{Deserialize, Serialize};

/// The failover queue's backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    Redis,
    Kafka,
    /// A value this client does not know, kept so that it can be shown.
    #[serde(untagged)]
    Other(String),
}

impl QueueType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Redis => "redis",
            Self::Kafka => "kafka",
            Self::Other(other) => other,
        }
    }
}

/// The body of `GET /admin/config` (exactly these three keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConfig {
    #[serde(rename = "USE_FAKE_LLM")]
    pub use_fake_llm: bool,
    #[serde(rename = "ENABLE_CACHING")]
    pub enable_caching: bool,
    #[serde(rename = "QUEUE_TYPE")]
    pub queue_type: QueueType,
}

/// The body of `PUT /admin/config`: only the keys to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigUpdate {
    #[serde(
        rename = "USE_FAKE_LLM",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_fake_llm: Option<bool>,
    #[serde(
        rename = "ENABLE_CACHING",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_caching: Option<bool>,
    #[serde(
        rename = "QUEUE_TYPE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub queue_type: Option<QueueType>,
}

/// The answer to `PUT /admin/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigUpdateAnswer {
    pub status: String,
    pub current_config: ServiceConfig,
}

/// A key whose value the server kept different from the one sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptValue {
    pub key: &'static str,
    pub sent: String,
    pub kept: String,
}

impl ConfigUpdate {
    /// Only the keys where `edited` differs from `loaded`.
    pub fn between(loaded: &ServiceConfig, edited: &ServiceConfig) -> Self {
        Self {
            use_fake_llm: (loaded.use_fake_llm != edited.use_fake_llm)
                .then_some(edited.use_fake_llm),
            enable_caching: (loaded.enable_caching != edited.enable_caching)
                .then_some(edited.enable_caching),
            queue_type: (loaded.queue_type != edited.queue_type).then(|| edited.queue_type.clone()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The sent keys whose value the server did not take (the real service
    /// silently ignores an unknown `QUEUE_TYPE`).
    pub fn not_applied(&self, current: &ServiceConfig) -> Vec<KeptValue> {
        let mut kept = Vec::new();
        if let Some(sent) = self.use_fake_llm.filter(|v| *v != current.use_fake_llm) {
            kept.push(KeptValue {
                key: "USE_FAKE_LLM",
                sent: sent.to_string(),
                kept: current.use_fake_llm.to_string(),
            });
        }
        if let Some(sent) = self.enable_caching.filter(|v| *v != current.enable_caching) {
            kept.push(KeptValue {
                key: "ENABLE_CACHING",
                sent: sent.to_string(),
                kept: current.enable_caching.to_string(),
            });
        }
        if let Some(sent) = self
            .queue_type
            .as_ref()
            .filter(|v| **v != current.queue_type)
        {
            kept.push(KeptValue {
                key: "QUEUE_TYPE",
                sent: sent.as_str().to_owned(),
                kept: current.queue_type.as_str().to_owned(),
            });
        }
        kept
    }
}
