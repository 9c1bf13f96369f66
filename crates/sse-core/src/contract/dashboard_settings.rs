//! The dashboard's own settings: where the API is and how often to poll.
//!
//! They come from `config.json`, served next to index.html (so a container can
//! write it at start), with same-origin defaults; the API base and the admin
//! token can be changed in the UI. Bad values are replaced by defaults with a
//! message, never taken as they are.

use serde::Deserialize;

use crate::contract::instances::{validate_list, Instance};

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
    /// Sent as `Authorization: Bearer` on admin requests when present. Only from
    /// this browser's Settings (checked by [`validate_admin_token`]), never from
    /// config.json, which is public.
    pub admin_token: Option<String>,
    /// The instances behind the balancer, each reached on its own (cluster
    /// mode when not empty); the balancer stays `api_base`.
    pub instances: Vec<Instance>,
    /// The Prometheus server that scrapes the service: its base (`/prometheus`
    /// through the dashboard's nginx, or `http(s)://host:9090`); none: no such
    /// source. It never gets the admin token.
    pub prometheus: Option<String>,
    /// The `job` label of the service's scrapes, when the server scrapes more
    /// than the service (empty: every series of its metrics).
    pub prometheus_job: String,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            health_poll_ms: DEFAULT_HEALTH_POLL_MS,
            stats_poll_ms: DEFAULT_STATS_POLL_MS,
            admin_token: None,
            instances: Vec::new(),
            prometheus: None,
            prometheus_job: String::new(),
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
    /// No longer honoured (config.json is public); only noticed, to say so.
    #[serde(default)]
    admin_token: Option<serde_json::Value>,
    #[serde(default)]
    instances: Option<serde_json::Value>,
    #[serde(default)]
    prometheus: Option<String>,
    #[serde(default)]
    prometheus_job: Option<String>,
}

/// Longest admin token accepted (a header line has to carry it).
pub const MAX_ADMIN_TOKEN_CHARS: usize = 4_096;

/// Checks an admin token a person typed or a browser kept: visible ASCII only
/// (`!` to `~`), since an HTTP header cannot carry anything else and a browser
/// refuses the whole request when it meets, say, a pasted en dash.
pub fn validate_admin_token(input: &str) -> Result<String, String> {
    let token = input.trim();
    if token.chars().count() > MAX_ADMIN_TOKEN_CHARS {
        return Err(format!(
            "The admin token is longer than {MAX_ADMIN_TOKEN_CHARS} characters."
        ));
    }
    if let Some((position, c)) = token
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_graphic())
    {
        let shown = if c.is_whitespace() {
            "a space".to_owned()
        } else if c.is_control() {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("\"{c}\" (U+{:04X})", u32::from(c))
        };
        return Err(format!(
            "The admin token has {shown} at position {}: a token may hold only visible ASCII characters (letters, digits and ! to ~), no spaces. Was it pasted with a typographic dash or quote?",
            position + 1
        ));
    }
    Ok(token.to_owned())
}

/// Checks a Prometheus server's base: a path (proxied by the dashboard's
/// nginx) or an http(s) URL, without a trailing `/`.
pub fn validate_prometheus_base(input: &str) -> Result<String, String> {
    validate_api_base(input).map_err(|_| {
        format!(
            "\"{}\" is not a Prometheus address: use a path such as /prometheus or a URL such as http://127.0.0.1:9090.",
            input.trim()
        )
    })
}

/// Checks a `job` label value (letters, digits, `_`, `-`, `.`, `:`).
pub fn validate_prometheus_job(input: &str) -> Result<String, String> {
    let job = input.trim();
    if job.len() > 128
        || !job
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    {
        return Err(format!(
            "\"{job}\" is not a job label: letters, digits, _, -, . and : only, at most 128."
        ));
    }
    Ok(job.to_owned())
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

/// The `instances` of config.json, each API base checked; a bad list is
/// dropped whole with a message (half a cluster would mislead).
fn instances(value: Option<serde_json::Value>, warnings: &mut Vec<String>) -> Vec<Instance> {
    let Some(value) = value else {
        return Vec::new();
    };
    instances_from_json(&value).unwrap_or_else(|e| {
        warnings.push(format!(
            "config.json: instances {e}; watching the balancer only."
        ));
        Vec::new()
    })
}

/// A list of instances in config.json's form, `[{"name", "api_base"}, …]`
/// (also how this browser keeps the list entered in Settings), checked.
pub fn instances_from_json(value: &serde_json::Value) -> Result<Vec<Instance>, String> {
    // Read by hand, not through serde: this runs in the first load, where
    // every byte counts.
    let field = |item: &serde_json::Value, key: &str| {
        item.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let checked = value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|item| {
                    Some(Instance {
                        name: field(item, "name")?,
                        api_base: field(item, "api_base")?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| "is not a list of {\"name\", \"api_base\"}".to_owned())
        .and_then(|mut list| {
            validate_list(&list)?;
            for instance in &mut list {
                instance.api_base = validate_api_base(&instance.api_base)
                    .map_err(|e| format!("{}: {e}", instance.name))?;
            }
            Ok(list)
        });
    checked
}

/// The JSON of a list, as [`instances_from_json`] reads it.
pub fn instances_json(instances: &[Instance]) -> String {
    serde_json::Value::Array(
        instances
            .iter()
            .map(|i| serde_json::json!({ "name": i.name, "api_base": i.api_base }))
            .collect(),
    )
    .to_string()
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
            admin_token: None,
            instances: instances(file.instances, &mut warnings),
            prometheus: file
                .prometheus
                .filter(|p| !p.trim().is_empty())
                .and_then(|p| {
                    validate_prometheus_base(&p)
                        .map_err(|e| warnings.push(format!("config.json: {e}")))
                        .ok()
                }),
            prometheus_job: file
                .prometheus_job
                .and_then(|j| {
                    validate_prometheus_job(&j)
                        .map_err(|e| warnings.push(format!("config.json: {e}")))
                        .ok()
                })
                .unwrap_or_default(),
        };
        if file.admin_token.is_some() {
            warnings.push(
                "config.json has an \"admin_token\": it is ignored, because anyone who can open the dashboard can read that file. Remove it from config.json and enter the token in Settings (it stays in this browser)."
                    .into(),
            );
        }
        (settings, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prometheus_server_comes_from_config_json_checked() {
        let (s, warnings) = DashboardSettings::from_runtime_json(
            r#"{"prometheus": "/prometheus/", "prometheus_job": "sse"}"#,
        );
        assert_eq!(
            (s.prometheus.as_deref(), s.prometheus_job.as_str()),
            (Some("/prometheus"), "sse")
        );
        assert!(warnings.is_empty());
        let (s, warnings) = DashboardSettings::from_runtime_json(
            r#"{"prometheus": "prom:9090", "prometheus_job": "a b"}"#,
        );
        assert_eq!((s.prometheus, s.prometheus_job.as_str()), (None, ""));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let (s, _) = DashboardSettings::from_runtime_json(r#"{"prometheus": ""}"#);
        assert_eq!(s.prometheus, None, "empty: no server");
    }

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
    fn a_token_in_config_json_is_ignored_with_a_notice() {
        let (settings, warnings) =
            DashboardSettings::from_runtime_json(r#"{"admin_token":"s3cret"}"#);
        assert_eq!(settings.admin_token, None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("ignored"), "{warnings:?}");
    }

    #[test]
    fn admin_tokens_are_visible_ascii_only() {
        assert_eq!(
            validate_admin_token(" abc-DEF_1.~! "),
            Ok("abc-DEF_1.~!".into())
        );
        let dash = validate_admin_token("abc\u{2013}def").unwrap_err();
        assert!(
            dash.contains("U+2013") && dash.contains("position 4"),
            "{dash}"
        );
        assert!(validate_admin_token("ab cd")
            .unwrap_err()
            .contains("a space"));
        assert!(validate_admin_token("ab\u{0}cd")
            .unwrap_err()
            .contains("U+0000"));
        assert!(
            validate_admin_token("caf\u{e9}").is_err(),
            "Latin-1 but not ASCII"
        );
        assert!(validate_admin_token(&"x".repeat(MAX_ADMIN_TOKEN_CHARS + 1)).is_err());
        assert_eq!(validate_admin_token(""), Ok(String::new()));
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
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("stats_poll_ms 5"), "{warnings:?}");
        assert!(warnings[1].contains("admin_token"), "{warnings:?}");
        let (settings, warnings) = DashboardSettings::from_runtime_json("not json");
        assert_eq!(settings, DashboardSettings::default());
        assert_eq!(warnings.len(), 1);
        let (settings, warnings) = DashboardSettings::from_runtime_json(
            r#"{"instances":[{"name":"app-1","api_base":"/instances/app-1/api/v1/"},{"name":"app-2","api_base":"http://127.0.0.1:8002/api/v1"}]}"#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(settings.instances[0].api_base, "/instances/app-1/api/v1");
        assert_eq!(settings.instances[1].name, "app-2");
        let again = serde_json::from_str(&instances_json(&settings.instances)).expect("json");
        assert_eq!(instances_from_json(&again), Ok(settings.instances.clone()));
        for bad in [
            r#"{"instances":"app-1"}"#,
            r#"{"instances":[{"name":"a b","api_base":"/x"}]}"#,
            r#"{"instances":[{"name":"a","api_base":"x"}]}"#,
        ] {
            let (settings, warnings) = DashboardSettings::from_runtime_json(bad);
            assert!(settings.instances.is_empty(), "{bad}");
            assert!(warnings[0].contains("instances"), "{warnings:?}");
        }
        let (settings, warnings) = DashboardSettings::from_runtime_json("{}");
        assert_eq!(
            (settings, warnings.len()),
            (DashboardSettings::default(), 0)
        );
    }
}
