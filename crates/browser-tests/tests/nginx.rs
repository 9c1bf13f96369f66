//! The project's nginx.conf in a real nginx, checked over real sockets:
//! `nginx -t`, the SPA fallback, cache headers, gzip, security headers, its own
//! `/health`, and event streams that pass through without buffering.

use std::time::{Duration, Instant};

use browser_tests::{
    dist_dir, project_root, start_dashboard, start_dashboard_tls, InProcessBackend,
};
use dashboard_ops::process::find_program;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use sse_backend::settings::{FakeLlmSettings, Settings};

fn client() -> reqwest::Client {
    // No automatic decompression: the test looks at what nginx sends.
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client")
}

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A hashed file of the bundle whose name ends with `suffix`.
fn bundle_file(suffix: &str) -> anyhow::Result<String> {
    dist_file(|n| n.starts_with("perf-dashboard-") && n.ends_with(suffix))
}

/// The first file of the built bundle whose name `matches`.
fn dist_file(matches: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    std::fs::read_dir(dist_dir()?)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| matches(n))
        .ok_or_else(|| anyhow::anyhow!("no such file in dist"))
}

#[tokio::test]
async fn nginx_accepts_the_rendered_config_with_and_without_tls() -> anyhow::Result<()> {
    let nginx_bin = find_program("nginx").expect("nginx is installed by scripts/setup");
    for nginx in [
        start_dashboard("http://127.0.0.1:9")?,
        start_dashboard_tls("http://127.0.0.1:9")?,
    ] {
        let config = nginx.runtime_dir().join("nginx.conf");
        let output = std::process::Command::new(&nginx_bin)
            .arg("-t")
            .arg("-p")
            .arg(nginx.runtime_dir())
            .arg("-c")
            .arg(&config)
            .args(["-g", "user root;"])
            .output()?;
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{said}");
        assert!(
            said.contains("syntax is ok") && said.contains("test is successful"),
            "{said}"
        );
    }
    let _ = project_root()?;
    Ok(())
}

#[tokio::test]
async fn static_answers_carry_cache_security_and_compression_headers() -> anyhow::Result<()> {
    let nginx = start_dashboard("http://127.0.0.1:9")?;
    let base = nginx.url();
    let http = client();

    let index = http.get(format!("{base}/")).send().await?;
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
    let csp = header(&index, "content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval';",
        "connect-src 'self' blob:;",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(
        !csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    assert_eq!(header(&index, "x-frame-options"), "DENY");
    assert_eq!(header(&index, "server"), "nginx", "no version");
    let html = index.text().await?;
    assert!(
        !html.contains("<script type=\"module\">"),
        "no inline script for the CSP to block"
    );

    // A deep link gets the app; a missing hashed asset is a 404, not the app.
    let deep = http.get(format!("{base}/runs/42")).send().await?;
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await?.contains("perf-dashboard-"));
    let missing = http
        .get(format!("{base}/perf-dashboard-0123456789abcdef_bg.wasm"))
        .send()
        .await?;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        header(&missing, "x-content-type-options"),
        "nosniff",
        "errors carry the headers too"
    );

    let wasm = http
        .get(format!("{base}/{}", bundle_file("_bg.wasm")?))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await?;
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(&wasm, CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&wasm, CONTENT_ENCODING), "gzip");
    assert_eq!(
        header(&wasm, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&wasm, "x-frame-options"), "DENY");

    let config = http.get(format!("{base}/config.json")).send().await?;
    assert_eq!(header(&config, CACHE_CONTROL), "no-cache");
    assert!(config.json::<serde_json::Value>().await?.is_object());
    // The parts loaded on demand and their loader carry the program's hash:
    // cached for good, compressed, of their type.
    for (file, kind) in [
        (
            dist_file(|n| n.starts_with("split_load_tester-") && n.ends_with(".wasm"))?,
            "application/wasm",
        ),
        (
            dist_file(|n| n.starts_with("split-") && n.ends_with(".js"))?,
            "application/javascript",
        ),
    ] {
        let part = http
            .get(format!("{base}/{file}"))
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await?;
        assert_eq!(part.status(), 200, "{file}");
        assert_eq!(header(&part, CONTENT_TYPE), kind, "{file}");
        assert_eq!(header(&part, CONTENT_ENCODING), "gzip", "{file}");
        assert_eq!(
            header(&part, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{file}"
        );
    }

    let health = http.get(format!("{base}/health")).send().await?;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await?, r#"{"status":"ok"}"#);
    Ok(())
}

#[tokio::test]
async fn event_streams_pass_through_unbuffered_and_uncompressed() -> anyhow::Result<()> {
    // 20+ chunks 100 ms apart: a stream of over 2 s.
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 20,
            ttft_max_ms: 20,
            gap_min_ms: 100,
            gap_max_ms: 100,
            chunk_min_chars: 4,
            chunk_max_chars: 4,
            answer_min_chars: 100,
            answer_max_chars: 100,
            ..FakeLlmSettings::realistic()
        },
        // The same question twice would be a cache hit: one chunk at once.
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    for nginx in [
        start_dashboard(&backend.origin())?,
        start_dashboard_tls(&backend.origin())?,
    ] {
        let base = nginx.tls_url().unwrap_or_else(|| nginx.url());
        let sent = Instant::now();
        let mut response = client()
            .post(format!("{base}/api/v1/stream"))
            .header(ACCEPT_ENCODING, "gzip")
            .json(&serde_json::json!({ "query": "unbuffered", "model": "m" }))
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, CONTENT_ENCODING),
            "",
            "never gzip on a stream"
        );
        assert!(header(&response, CONTENT_TYPE).starts_with("text/event-stream"));
        assert_eq!(
            header(&response, CACHE_CONTROL),
            "no-cache",
            "the service's own, once"
        );
        let mut seen = String::new();
        let mut first_chunk = None;
        while let Some(bytes) = response.chunk().await? {
            seen.push_str(&String::from_utf8_lossy(&bytes));
            if first_chunk.is_none() && seen.contains("event: chunk") {
                first_chunk = Some(sent.elapsed());
            }
        }
        let total = sent.elapsed();
        let first_chunk = first_chunk.expect("chunks arrived");
        assert!(seen.contains("[DONE]"));
        assert!(total > Duration::from_secs(2), "{total:?}");
        // The first chunk arrives while the stream goes on, not at its end.
        assert!(
            first_chunk < Duration::from_millis(500),
            "first chunk after {first_chunk:?} of {total:?} ({base})"
        );
    }
    Ok(())
}

/// The first number after `name` in a /proc status text.
fn field(status: &str, name: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The real user id in a /proc status text.
fn uid_field(status: &str) -> Option<u32> {
    field(status, "Uid:")
}

/// The real user id of each process whose parent is `parent`.
fn children_uids(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|status| field(status, "PPid:") == Some(parent))
        .filter_map(|status| uid_field(&status))
        .collect()
}

/// The uid of `nobody` in /etc/passwd.
fn nobody_uid() -> Option<u32> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find(|l| l.starts_with("nobody:"))?
        .split(':')
        .nth(2)?
        .parse()
        .ok()
}

#[tokio::test]
async fn workers_run_as_an_unprivileged_user_and_still_serve_the_bundle() -> anyhow::Result<()> {
    let mut nginx = start_dashboard("http://127.0.0.1:9")?;
    let master = nginx.process().pid();
    let workers = children_uids(master);
    assert!(!workers.is_empty(), "no worker of nginx {master}");
    let me = uid_field(&std::fs::read_to_string("/proc/self/status")?).expect("own uid");
    // Started as root, the workers are nobody; otherwise whoever started nginx.
    let expected = if me == 0 {
        nobody_uid().expect("a nobody user")
    } else {
        me
    };
    assert!(
        workers.iter().all(|uid| *uid == expected),
        "workers run as {workers:?}, expected {expected} (nginx started by {me})"
    );
    // The workers can read what they serve (a copy when the checkout is closed to them).
    let http = client();
    let index = http.get(format!("{}/", nginx.url())).send().await?;
    assert_eq!(index.status(), 200);
    let wasm = http
        .get(format!("{}/{}", nginx.url(), bundle_file("_bg.wasm")?))
        .send()
        .await?;
    assert_eq!(wasm.status(), 200);
    Ok(())
}

#[tokio::test]
async fn hsts_only_over_tls_and_a_permissions_policy_everywhere() -> anyhow::Result<()> {
    let nginx = start_dashboard_tls("http://127.0.0.1:9")?;
    let http = client();
    let plain = http.get(format!("{}/", nginx.url())).send().await?;
    let tls_url = nginx.tls_url().expect("TLS listener");
    let secure = http.get(format!("{tls_url}/")).send().await?;
    let secure_error = http.get(format!("{tls_url}/api/v1/health")).send().await?;
    assert_eq!(header(&plain, "strict-transport-security"), "");
    assert_eq!(
        header(&secure, "strict-transport-security"),
        "max-age=31536000"
    );
    assert_eq!(
        header(&secure_error, "strict-transport-security"),
        "max-age=31536000",
        "on errors too (502: no backend)"
    );
    for answer in [&plain, &secure, &secure_error] {
        let policy = header(answer, "permissions-policy");
        for feature in [
            "camera=()",
            "microphone=()",
            "geolocation=()",
            "usb=()",
            "payment=()",
        ] {
            assert!(
                policy.contains(feature),
                "{feature} missing from {policy:?}"
            );
        }
    }
    Ok(())
}
