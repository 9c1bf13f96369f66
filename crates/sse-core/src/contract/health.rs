//! `GET /health`: the service's own view of itself, and how the dashboard turns
//! one check into a connection state.
//!
//! The service answers HTTP 200 as long as its process is up, also when a
//! component (Redis) is down; the body's `status` then says `degraded` or
//! `unhealthy`. So "connected" is decided from the body, not from the status code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::contract::api_error::ApiError;

/// The `status` field of a health answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
    /// Any value this client does not know; kept so that it can be shown.
    #[serde(untagged)]
    Other(String),
}

/// The body of `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Component name -> its status word (`"healthy"`, `"unhealthy"`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, String>,
    /// Which instance answered (our reference backend; the original sends none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Present on `unhealthy` answers caused by an internal exception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HealthReport {
    /// Components whose status is anything but `healthy`, in name order.
    pub fn failing_components(&self) -> Vec<&str> {
        self.components
            .iter()
            .filter(|(_, status)| status.as_str() != "healthy")
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// What the status indicator shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first check, or a check after a failure, is in flight.
    Checking,
    /// 200 with status `healthy`.
    Connected { version: Option<String> },
    /// 200 with `degraded`, `unhealthy` or an unknown status; `reason` names the
    /// failing components or the service's error.
    Degraded {
        version: Option<String>,
        reason: String,
    },
    /// The service could not be reached or did not answer a health report.
    Disconnected { reason: String },
}

impl ConnectionState {
    /// This state, degraded by `reason` when there is one (a critical alert of
    /// the service's Prometheus server): a healthy service becomes degraded,
    /// a degraded one gives both reasons; one that cannot be reached stays so.
    pub fn degraded_by(self, reason: Option<String>) -> Self {
        match (self, reason) {
            (Self::Connected { version }, Some(reason)) => Self::Degraded {
                version,
                reason: format!("degraded: {reason}"),
            },
            (
                Self::Degraded {
                    version,
                    reason: own,
                },
                Some(reason),
            ) => Self::Degraded {
                version,
                reason: format!("{own}; {reason}"),
            },
            (state, _) => state,
        }
    }

    /// The stable word used in `data-state` attributes and CSS classes.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Connected { .. } => "connected",
            Self::Degraded { .. } => "degraded",
            Self::Disconnected { .. } => "disconnected",
        }
    }

    /// The label a person reads.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Checking => "Checking",
            Self::Connected { .. } => "Connected",
            Self::Degraded { .. } => "Degraded",
            Self::Disconnected { .. } => "Disconnected",
        }
    }

    /// Decides the state from the outcome of one health check.
    pub fn from_check(outcome: Result<HealthReport, ApiError>) -> Self {
        match outcome {
            Err(failure) => Self::Disconnected {
                reason: failure.to_string(),
            },
            Ok(report) => {
                let word = match &report.status {
                    HealthStatus::Healthy => {
                        return Self::Connected {
                            version: report.version,
                        }
                    }
                    HealthStatus::Degraded => "degraded".to_owned(),
                    HealthStatus::Unhealthy => "unhealthy".to_owned(),
                    HealthStatus::Other(word) => format!("unknown status \"{word}\""),
                };
                let failing = report.failing_components();
                let reason = if let Some(error) = &report.error {
                    format!("{word}: {error}")
                } else if failing.is_empty() {
                    word
                } else {
                    format!("{word}: {} not healthy", failing.join(", "))
                };
                Self::Degraded {
                    version: report.version.clone(),
                    reason,
                }
            }
        }
    }

    /// Parses a 2xx body and decides the state in one step.
    pub fn from_body(body: &str) -> Self {
        Self::from_check(
            serde_json::from_str::<HealthReport>(body).map_err(|e| ApiError::Decode(e.to_string())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_critical_alert_degrades_a_healthy_service_and_nothing_else() {
        let reason = || Some("Prometheus fires a critical alert: InstanceDown (app-2)".to_owned());
        let healthy = ConnectionState::Connected {
            version: Some("1.0".into()),
        };
        assert_eq!(
            healthy.clone().degraded_by(reason()),
            ConnectionState::Degraded {
                version: Some("1.0".into()),
                reason: "degraded: Prometheus fires a critical alert: InstanceDown (app-2)".into()
            }
        );
        assert_eq!(healthy.clone().degraded_by(None), healthy);
        let down = ConnectionState::Disconnected {
            reason: "refused".into(),
        };
        assert_eq!(down.clone().degraded_by(reason()), down);
    }

    // Answers as the real service gives them (shared/contract.md).
    const HEALTHY: &str = r#"{"status":"healthy","timestamp":"2026-11-27T10:44:02.565453Z","version":"1.0.0","components":{"redis":"healthy"}}"#;
    const DEGRADED: &str = r#"{"status":"degraded","timestamp":"2026-11-27T10:44:02.565453Z","version":"1.0.0","components":{"redis":"unhealthy"}}"#;
    const UNHEALTHY: &str =
        r#"{"status":"unhealthy","timestamp":"2026-11-27T10:44:02.565453Z","error":"boom"}"#;

    #[test]
    fn healthy_body_is_connected_with_version() {
        assert_eq!(
            ConnectionState::from_body(HEALTHY),
            ConnectionState::Connected {
                version: Some("1.0.0".into())
            }
        );
    }

    #[test]
    fn degraded_body_names_the_failing_component() {
        let state = ConnectionState::from_body(DEGRADED);
        assert_eq!(state.key(), "degraded");
        assert_eq!(
            state,
            ConnectionState::Degraded {
                version: Some("1.0.0".into()),
                reason: "degraded: redis not healthy".into()
            }
        );
    }

    #[test]
    fn unhealthy_body_carries_the_service_error() {
        match ConnectionState::from_body(UNHEALTHY) {
            ConnectionState::Degraded { reason, version } => {
                assert_eq!(reason, "unhealthy: boom");
                assert_eq!(version, None);
            }
            other => panic!("expected degraded, got {other:?}"),
        }
    }

    #[test]
    fn unknown_status_word_is_degraded_not_connected() {
        let state = ConnectionState::from_body(r#"{"status":"starting"}"#);
        assert_eq!(state.key(), "degraded");
        assert!(
            matches!(state, ConnectionState::Degraded { ref reason, .. } if reason.contains("starting"))
        );
    }

    #[test]
    fn non_json_or_wrong_shape_is_disconnected() {
        for body in ["<html>502 Bad Gateway</html>", "{}", "", r#"{"status":1}"#] {
            let state = ConnectionState::from_body(body);
            assert_eq!(state.key(), "disconnected", "body {body:?}");
        }
    }

    #[test]
    fn failures_become_disconnected_with_a_sentence() {
        let state = ConnectionState::from_check(Err(ApiError::Http {
            status: 502,
            body: crate::contract::api_error::ApiErrorBody::parse(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>",
            ),
        }));
        assert_eq!(
            state,
            ConnectionState::Disconnected {
                reason: "HTTP 502 (an HTML page \"502 Bad Gateway\", probably from a proxy in front of the service)".into()
            }
        );
        let state = ConnectionState::from_check(Err(ApiError::Timeout { after_ms: 3000 }));
        assert_eq!(state.label(), "Disconnected");
        assert!(
            matches!(state, ConnectionState::Disconnected { reason } if reason == "The service did not answer within 3 s.")
        );
    }

    #[test]
    fn report_round_trips_through_json() {
        let report: HealthReport = serde_json::from_str(DEGRADED).expect("valid capture");
        let again: HealthReport =
            serde_json::from_str(&serde_json::to_string(&report).expect("serializable"))
                .expect("own output parses");
        assert_eq!(report, again);
    }
}
