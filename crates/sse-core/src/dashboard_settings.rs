//! The dashboard's own settings: where the API is and how often to poll.
//!
//! They come from `config.json`, served next to index.html (so a container can
//! write it at start), with same-origin defaults; the API base and the admin
//! token can be changed in the UI. Bad values are replaced by defaults with a
//! message, never taken as they are.

use serde::Deserialize;

pub const DEFAULT_API_BASE: &str = "/api/v1";
pub const DEFAULT_HEALTH_POLL_MS: u32 = 5_000;
pub const DEFAULT_STATS_POLL_MS: u32 = 10_000;
/// Poll intervals outside this range are not honoured.
pub const POLL_RANGE_MS: std::ops::RangeInclusive<u32> = 1_000..=600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSettings {
    /// `/api/v1` (same origin, through nginx) or an absolute `http(s)://host/api/v1`.
    pub api_base: String,
    pub health_poll_ms: u32,
    pub stats_poll_ms: u32,
    /// Sent as `Authorization: Bearer` on admin requests when present.
    pub admin_token: Option<String>,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            health_poll_ms: DEFAULT_HEALTH_POLL_MS,
            stats_poll_ms: DEFAULT_STATS_POLL_MS,
            admin_token: None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct RuntimeFile {
    #[serde(default)]
    api_base: Option<String>,
    #[serde(default)]
    health_poll_ms: Option<serde_json::Value>,
    #[serde(default)]
    stats_poll_ms: Option<serde_json::Value>,
    #[serde(default)]
    admin_token: Option<String>,
}

/// Checks an API base a person typed or a file gave; returns it without a trailing `/`.
pub fn validate_api_base(input: &str) -> Result<String, String> {
    let base = input.trim().trim_end_matches('/');
    if base.is_empty() {
        return Err("The API base must not be empty; the default is /api/v1.".into());
    }
    if base.chars().any(char::is_whitespace) {
        return Err("The API base must not contain spaces.".into());
    }
    let relative = base.starts_with('/') && !base.starts_with("//");
    let absolute = ["http://", "https://"].iter().any(|scheme| {
        base.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    });
    if relative || absolute {
        Ok(base.to_owned())
    } else {
        Err(format!(
            "\"{base}\" is not an API base: use a path such as /api/v1 or a URL such as http://127.0.0.1:8000/api/v1."
        ))
    }
}

fn poll_ms(
    value: Option<serde_json::Value>,
    name: &str,
    default: u32,
    warnings: &mut Vec<String>,
) -> u32 {
    let Some(value) = value else { return default };
    match value.as_u64().and_then(|v| u32::try_from(v).ok()) {
        Some(ms) if POLL_RANGE_MS.contains(&ms) => ms,
        _ => {
            warnings.push(format!(
                "{name} {value} is not between {} and {} ms; using {default} ms.",
                POLL_RANGE_MS.start(),
                POLL_RANGE_MS.end()
            ));
            default
        }
    }
}

impl DashboardSettings {
    /// Settings from the text of `config.json`, and what was wrong with it.
    pub fn from_runtime_json(text: &str) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let file = match serde_json::from_str::<RuntimeFile>(text) {
            Ok(file) => file,
            Err(e) => {
                warnings.push(format!(
                    "config.json is not valid ({e}); using the defaults."
                ));
                RuntimeFile::default()
            }
        };
        let defaults = Self::default();
        let api_base = match file.api_base.as_deref().map(validate_api_base) {
            None => defaults.api_base,
            Some(Ok(base)) => base,
            Some(Err(message)) => {
                warnings.push(format!("config.json: {message}"));
                defaults.api_base
            }
        };
        let settings = Self {
            api_base,
            health_poll_ms: poll_ms(
                file.health_poll_ms,
                "health_poll_ms",
                DEFAULT_HEALTH_POLL_MS,
                &mut warnings,
            ),
            stats_poll_ms: poll_ms(
                file.stats_poll_ms,
                "stats_poll_ms",
                DEFAULT_STATS_POLL_MS,
                &mut warnings,
            ),
            admin_token: file.admin_token.filter(|t| !t.trim().is_empty()),
        };
        (settings, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_accepts_paths_and_http_urls_only() {
        assert_eq!(validate_api_base("/api/v1/"), Ok("/api/v1".into()));
        assert_eq!(
            validate_api_base(" http://127.0.0.1:8000/api/v1 "),
            Ok("http://127.0.0.1:8000/api/v1".into())
        );
        for bad in [
            "",
            "api/v1",
            "//evil/api",
            "ftp://x/api",
            "http://",
            "http:///x",
            "/api v1",
        ] {
            assert!(validate_api_base(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn runtime_file_values_are_checked_and_replaced_with_a_message() {
        let (settings, warnings) = DashboardSettings::from_runtime_json(
            r#"{"api_base":"http://127.0.0.1:8000/api/v1","health_poll_ms":2000,"stats_poll_ms":5,"admin_token":" "}"#,
        );
        assert_eq!(settings.api_base, "http://127.0.0.1:8000/api/v1");
        assert_eq!(settings.health_poll_ms, 2_000);
        assert_eq!(settings.stats_poll_ms, DEFAULT_STATS_POLL_MS);
        assert_eq!(settings.admin_token, None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("stats_poll_ms 5"), "{warnings:?}");
        let (settings, warnings) = DashboardSettings::from_runtime_json("not json");
        assert_eq!(settings, DashboardSettings::default());
        assert_eq!(warnings.len(), 1);
        let (settings, warnings) = DashboardSettings::from_runtime_json("{}");
        assert_eq!(
            (settings, warnings.len()),
            (DashboardSettings::default(), 0)
        );
    }
}
