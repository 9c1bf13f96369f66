//! Several instances of the service behind one balancer: their names, where
//! the dashboard reaches each (`/instances/<name>/api/v1` through its own
//! nginx), and which instance answered a request.

use serde::{Deserialize, Serialize};

/// Most instances one dashboard polls (each costs three requests per poll).
pub const MAX_INSTANCES: usize = 32;
/// Longest instance name.
pub const MAX_NAME_CHARS: usize = 40;

/// One instance as config.json and Settings name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub name: String,
    /// The API base of this instance alone, e.g. `/instances/app-1/api/v1`.
    pub api_base: String,
}

/// The API base the dashboard's nginx gives instance `name`.
pub fn proxied_api_base(name: &str) -> String {
    format!("/instances/{name}/api/v1")
}

/// Checks a name: it becomes a URL path segment, an nginx location and a
/// `data-testid`, so letters, digits, `.`, `_` and `-` only, starting with a
/// letter or digit.
pub fn validate_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.chars().count() > MAX_NAME_CHARS || !first_ok || !rest_ok {
        return Err(format!(
            "\"{name}\" is not an instance name: use up to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. app-1)."
        ));
    }
    Ok(name)
}

/// Checks a whole list: valid names, no name twice, at most [`MAX_INSTANCES`].
pub fn validate_list(instances: &[Instance]) -> Result<(), String> {
    if instances.len() > MAX_INSTANCES {
        return Err(format!(
            "{} instances given; at most {MAX_INSTANCES} are polled.",
            instances.len()
        ));
    }
    for (i, instance) in instances.iter().enumerate() {
        validate_name(&instance.name)?;
        if instances[..i].iter().any(|o| o.name == instance.name) {
            return Err(format!(
                "The instance name {} is given twice.",
                instance.name
            ));
        }
    }
    Ok(())
}

/// Parses the Settings text: one instance per line, `name api_base` or
/// `name=api_base`; a line with a name alone gets [`proxied_api_base`].
/// `check_base` validates each API base (the settings' own rule).
pub fn parse_list(
    text: &str,
    check_base: fn(&str) -> Result<String, String>,
) -> Result<Vec<Instance>, String> {
    let mut instances = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, base) = match line.split_once(['=', ' ', '\t']) {
            Some((name, base)) => (name.trim(), base.trim()),
            None => (line, ""),
        };
        let at_line = |e: String| format!("Instances, line {}: {e}", number + 1);
        let name = validate_name(name).map_err(at_line)?.to_owned();
        let api_base = if base.is_empty() {
            proxied_api_base(&name)
        } else {
            check_base(base).map_err(at_line)?
        };
        instances.push(Instance { name, api_base });
    }
    validate_list(&instances)?;
    Ok(instances)
}

/// The Settings text of a list (what [`parse_list`] reads back).
pub fn list_text(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| format!("{} {}", i.name, i.api_base))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `BACKEND_INSTANCES`: `app-1=http://sse-app-1:8000,app-2=...`, into
/// (name, origin) pairs. Empty text: no instances.
pub fn parse_backend_instances(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, origin) = item.split_once('=').ok_or_else(|| {
            format!("BACKEND_INSTANCES: \"{item}\" is not name=http://host:port (e.g. app-1=http://sse-app-1:8000)")
        })?;
        let name = validate_name(name).map_err(|e| format!("BACKEND_INSTANCES: {e}"))?;
        if pairs.iter().any(|(n, _)| n == name) {
            return Err(format!("BACKEND_INSTANCES: {name} is given twice"));
        }
        pairs.push((name.to_owned(), origin.trim().to_owned()));
    }
    if pairs.len() > MAX_INSTANCES {
        return Err(format!(
            "BACKEND_INSTANCES: {} instances; at most {MAX_INSTANCES}",
            pairs.len()
        ));
    }
    Ok(pairs)
}

/// Which instance served an answer: its own `x-instance-id`, else the
/// balancer's `x-upstream-addr` (the last address when nginx tried several:
/// the one that answered), else unknown.
pub fn attribution(instance_id: Option<&str>, upstream_addr: Option<&str>) -> Option<String> {
    let shown = |s: &str| crate::format::display_text(s.trim(), MAX_NAME_CHARS + 24);
    instance_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(shown)
        .or_else(|| {
            upstream_addr
                .and_then(|a| a.rsplit(',').next())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(shown)
        })
}

/// A `data-testid`-safe form of an attribution (`127.0.0.1:8001` →
/// `127.0.0.1-8001`): anything but letters, digits, `.`, `_`, `-` becomes `-`.
pub fn testid_value(attribution: &str) -> String {
    attribution
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(base: &str) -> Result<String, String> {
        Ok(base.to_owned())
    }

    #[test]
    fn names_are_path_and_testid_safe() {
        for good in ["app-1", "A.b_c-9", "x"] {
            assert_eq!(validate_name(good), Ok(good));
        }
        for bad in ["", "-app", "app 1", "app/1", "ä", "a\"b", &"x".repeat(41)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_settings_text_round_trips_and_bad_lines_are_named() {
        let list = parse_list(
            "app-1\n# comment\n\napp-2=/instances/two/api/v1\napp-3 http://127.0.0.1:8003/api/v1",
            accept,
        )
        .expect("list");
        assert_eq!(list[0].api_base, "/instances/app-1/api/v1");
        assert_eq!(list[1].api_base, "/instances/two/api/v1");
        assert_eq!(list[2].api_base, "http://127.0.0.1:8003/api/v1");
        assert_eq!(parse_list(&list_text(&list), accept), Ok(list));
        let error = parse_list("app-1\nbad/name", accept).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        assert!(parse_list("a\na", accept).unwrap_err().contains("twice"));
        let base = parse_list("a nope", |_| Err("bad base".to_owned())).unwrap_err();
        assert!(base.contains("line 1: bad base"), "{base}");
        let many = (0..=MAX_INSTANCES)
            .map(|i| format!("a{i}\n"))
            .collect::<String>();
        assert!(parse_list(&many, accept).is_err());
        assert_eq!(parse_list("", accept), Ok(vec![]));
    }

    #[test]
    fn backend_instances_parse_into_pairs() {
        assert_eq!(
            parse_backend_instances(" app-1=http://a:8000, app-2=http://b:8000 ,"),
            Ok(vec![
                ("app-1".into(), "http://a:8000".into()),
                ("app-2".into(), "http://b:8000".into())
            ])
        );
        assert_eq!(parse_backend_instances(""), Ok(vec![]));
        assert!(parse_backend_instances("app-1").is_err());
        assert!(parse_backend_instances("a b=http://x").is_err());
        assert!(parse_backend_instances("a=http://x,a=http://y").is_err());
    }

    #[test]
    fn attribution_prefers_the_instance_id_then_the_last_upstream() {
        assert_eq!(
            attribution(Some("app-2"), Some("127.0.0.1:8002")),
            Some("app-2".into())
        );
        assert_eq!(
            attribution(None, Some("127.0.0.1:8001")),
            Some("127.0.0.1:8001".into())
        );
        // nginx lists every upstream it tried; the last one answered.
        assert_eq!(
            attribution(Some(" "), Some("127.0.0.1:8001, 127.0.0.1:8003")),
            Some("127.0.0.1:8003".into())
        );
        assert_eq!(attribution(None, None), None);
        assert_eq!(testid_value("127.0.0.1:8003"), "127.0.0.1-8003");
    }
}
