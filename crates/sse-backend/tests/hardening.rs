//! What a hostile page, a careless operator or a flood can do to the reference
//! backend, over real sockets: CORS, user ids, content types, the admin token,
//! idle connections and the per-user limit behind a proxy.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{body, fast_settings, stream_with, Server};
use sse_backend::settings::{FakeLlmSettings, Settings};

const EVIL: &str = "http://evil.example";
const DASHBOARD: &str = "http://127.0.0.1:3001";

async fn cors_answer(server: &Server, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("admin/config"))
        .header("Origin", origin)
        .send()
        .await
        .expect("get")
}

async fn preflight(server: &Server, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url("admin/config"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("options")
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn no_foreign_page_may_read_or_change_the_admin_routes_by_default() {
    let server = Server::start(fast_settings()).await;
    assert_eq!(allowed_origin(&cors_answer(&server, EVIL).await), None);
    assert_eq!(allowed_origin(&preflight(&server, EVIL).await), None);
    assert_eq!(allowed_origin(&cors_answer(&server, DASHBOARD).await), None);
}

#[tokio::test]
async fn only_the_configured_origins_get_cors() {
    let server = Server::start(Settings {
        cors_origins: vec![DASHBOARD.into(), "*".into()],
        ..fast_settings()
    })
    .await;
    let allowed = cors_answer(&server, DASHBOARD).await;
    assert_eq!(allowed_origin(&allowed), Some(DASHBOARD));
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        allowed_origin(&preflight(&server, DASHBOARD).await),
        Some(DASHBOARD)
    );
    // "*" in the list is not honoured.
    assert_eq!(allowed_origin(&cors_answer(&server, EVIL).await), None);
    assert_eq!(allowed_origin(&preflight(&server, EVIL).await), None);
}

/// The service binary with `args` and `envs`, its standard error piped.
fn backend_process(args: &[&str], envs: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sse-backend"))
        .args(args)
        .env_remove("ADMIN_TOKEN")
        .env_remove("CORS_ORIGINS")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sse-backend")
}

/// Standard error up to the line saying it listens (warnings come before it),
/// and the address that line names.
fn startup_lines(child: &mut Child) -> (Vec<String>, String) {
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let address = rest.trim_end_matches("/api/v1").to_owned();
            lines.push(line);
            return (lines, address);
        }
        lines.push(line);
    }
    panic!("sse-backend ended before listening: {lines:?}");
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_binary_warns_when_admin_routes_are_open_and_not_when_a_token_is_set() {
    let mut open = backend_process(&["--listen", "127.0.0.1:0"], &[]);
    let (lines, _) = startup_lines(&mut open);
    stop(open);
    assert!(
        lines.iter().any(|l| l.contains("ADMIN_TOKEN is not set")),
        "{lines:?}"
    );
    let mut guarded = backend_process(&["--listen", "127.0.0.1:0"], &[("ADMIN_TOKEN", "x")]);
    let (lines, _) = startup_lines(&mut guarded);
    stop(guarded);
    assert_eq!(lines.len(), 1, "no warning: {lines:?}");
}

#[test]
fn help_never_prints_secret_values_from_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_sse-backend"))
        .arg("--help")
        .env("ADMIN_TOKEN", "s3cr3t-admin-value")
        .env("OPENAI_API_KEY", "sk-s3cr3t-key-value")
        .output()
        .expect("help");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("ADMIN_TOKEN"), "{text}");
    assert!(!text.contains("s3cr3t-admin-value"), "{text}");
    assert!(!text.contains("sk-s3cr3t-key-value"), "{text}");
    assert!(text.contains("--cors-origins") && text.contains("--trusted-proxies"));
    assert!(text.contains("--header-read-timeout-ms") && text.contains("--idle-timeout-ms"));
}

#[test]
fn the_admin_token_comparison_takes_whole_tokens_only() {
    use sse_backend::admin::token_matches;
    assert!(token_matches(Some(b"t0ken"), b"t0ken"));
    assert!(!token_matches(Some(b"t0ke"), b"t0ken"));
    assert!(!token_matches(Some(b"t0kenX"), b"t0ken"));
    assert!(!token_matches(Some(b"T0ken"), b"t0ken"));
    assert!(!token_matches(None, b"t0ken"));
}

#[tokio::test]
async fn an_admin_token_is_required_and_checked_over_http() {
    let server = Server::start(Settings {
        admin_token: Some("t0ken".into()),
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    for given in [
        None,
        Some("Bearer t0ke"),
        Some("Bearer t0kenX"),
        Some("t0ken"),
    ] {
        let mut request = client.get(server.url("admin/config"));
        if let Some(given) = given {
            request = request.header("Authorization", given);
        }
        assert_eq!(
            request.send().await.expect("get").status(),
            401,
            "{given:?}"
        );
    }
    let ok = client
        .get(server.url("admin/config"))
        .header("Authorization", "Bearer t0ken")
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
}

async fn post_stream(server: &Server, content_type: &str, user: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(server.url("stream"))
        .header("Content-Type", content_type)
        .body(body("Say hello").to_string());
    if let Some(user) = user {
        request = request.header("X-User-ID", user);
    }
    request.send().await.expect("post")
}

#[tokio::test]
async fn a_stream_needs_a_json_body_so_a_foreign_form_cannot_start_one() {
    let server = Server::start(fast_settings()).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ] {
        let answer = post_stream(&server, content_type, None).await;
        assert_eq!(answer.status(), 415, "{content_type}");
        let text = answer.text().await.expect("text");
        assert!(text.contains("application/json"), "{text}");
    }
    let answer = post_stream(&server, "application/json; charset=utf-8", None).await;
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("stream");
    let stats = common::get_json(&server, "admin/load-stats").await;
    assert_eq!(stats["totals_by_outcome"]["rejected415"], 4, "{stats}");
}

#[tokio::test]
async fn user_ids_over_128_bytes_are_a_400() {
    let server = Server::start(fast_settings()).await;
    let long = "u".repeat(129);
    let answer = post_stream(&server, "application/json", Some(&long)).await;
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.expect("text").contains("128"));
    let at_limit = "u".repeat(128);
    let answer = post_stream(&server, "application/json", Some(&at_limit)).await;
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("stream");
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// Sends `count` streams, `concurrency` at a time, each as a new user with an
/// id of `id_bytes` bytes; returns how many got each status.
async fn flood(origin: &str, count: usize, concurrency: usize, id_bytes: usize) -> (usize, usize) {
    let client = reqwest::Client::new();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, next, url) = (
            client.clone(),
            next.clone(),
            format!("{origin}/api/v1/stream"),
        );
        workers.push(tokio::spawn(async move {
            let (mut ok, mut rejected) = (0, 0);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return (ok, rejected);
                }
                let id = format!("{i:0>width$}", width = id_bytes);
                let answer = client
                    .post(&url)
                    .header("X-User-ID", id)
                    .json(&body("flood"))
                    .send()
                    .await
                    .expect("post");
                if answer.status() == 200 {
                    ok += 1;
                } else {
                    rejected += 1;
                }
                let _ = answer.bytes().await;
            }
        }));
    }
    let mut totals = (0, 0);
    for worker in workers {
        let (ok, rejected) = worker.await.expect("worker");
        totals = (totals.0 + ok, totals.1 + rejected);
    }
    totals
}

/// RSS may grow by at most this much over a flood of 15,000 users. Measured:
/// +0.5 MiB for 4 KiB ids (all refused) and +9.6 MiB for 128-byte ids; the
/// build before the limit grew by 110 MiB with 4 KiB ids.
const FLOOD_RSS_BOUND_KIB: u64 = 24 * 1024;

/// Runs a flood against a fresh service and returns (streamed, refused, RSS growth in KiB).
async fn flood_growth(binary: &str, id_bytes: usize) -> (usize, usize, u64) {
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--zero-delay"])
        .args([
            "--enable-caching",
            "false",
            "--rate-limit-per-minute",
            "1000",
        ])
        .env("ADMIN_TOKEN", "x")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let (_, address) = startup_lines(&mut child);
    let origin = format!("http://{address}");
    // Warm up (allocator arenas, connection pools) with ids that are accepted.
    flood(&origin, 500, 16, 16).await;
    let before = rss_kib(child.id());
    let started = Instant::now();
    let (ok, refused) = flood(&origin, 15_000, 32, id_bytes).await;
    let after = rss_kib(child.id());
    stop(child);
    println!(
        "flood of 15,000 unique {id_bytes}-byte user ids in {:.1} s: {ok} streamed, {refused} refused; RSS {before} KiB -> {after} KiB (+{} KiB, bound +{FLOOD_RSS_BOUND_KIB} KiB)",
        started.elapsed().as_secs_f64(),
        after.saturating_sub(before)
    );
    (ok, refused, after.saturating_sub(before))
}

#[tokio::test]
async fn a_flood_of_unique_user_ids_leaves_memory_bounded() {
    // FLOOD_BINARY measures another build the same way.
    let binary = std::env::var("FLOOD_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sse-backend").to_owned());
    let (ok, refused, growth) = flood_growth(&binary, 4096).await;
    assert_eq!((ok, refused), (0, 15_000), "4 KiB ids are refused");
    assert!(growth <= FLOOD_RSS_BOUND_KIB, "RSS grew by {growth} KiB");
    let (ok, refused, growth) = flood_growth(&binary, 128).await;
    assert_eq!(
        (ok, refused),
        (15_000, 0),
        "every user under the limits streams"
    );
    assert!(growth <= FLOOD_RSS_BOUND_KIB, "RSS grew by {growth} KiB");
}

/// Opens `n` connections to `addr` that send `bytes` and then nothing.
fn silent_connections(addr: std::net::SocketAddr, n: usize, bytes: &[u8]) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut socket = TcpStream::connect(addr).expect("connect");
            // On a loaded machine the server may have closed it already: then
            // the write fails and the socket reads as closed, as it should.
            let _ = socket.write_all(bytes);
            socket
        })
        .collect()
}

/// Whether the server closed `socket` (a read ends or fails) within `within`.
fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    socket.set_read_timeout(Some(within)).expect("timeout");
    let mut buffer = [0_u8; 4096];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn timeout_settings() -> Settings {
    Settings {
        header_read_timeout_ms: 300,
        idle_timeout_ms: 900,
        fake: FakeLlmSettings {
            // A stream longer than the idle limit, with no bytes for 1.2 s.
            ttft_min_ms: 1_200,
            ttft_max_ms: 1_200,
            ..fast_settings().fake
        },
        ..fast_settings()
    }
}

#[tokio::test]
async fn silent_and_header_less_connections_are_closed_after_the_header_timeout() {
    let server = Server::start(timeout_settings()).await;
    let addr = server.addr;
    let results = tokio::task::spawn_blocking(move || {
        // Still open well before the limit...
        let mut first = silent_connections(addr, 1, b"");
        let early_open = !closed_within(&mut first[0], Duration::from_millis(100));
        let mut silent = silent_connections(addr, 199, b"");
        let mut partial =
            silent_connections(addr, 50, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
        // ...and each closed within a few seconds (the idle limit is never reached
        // by a connection without a request; 75 s by default).
        let closed = first
            .iter_mut()
            .chain(silent.iter_mut())
            .chain(partial.iter_mut())
            .map(|s| closed_within(s, Duration::from_secs(3)))
            .filter(|closed| *closed)
            .count();
        (early_open, closed)
    })
    .await
    .expect("sockets");
    let (early_open, closed) = results;
    assert!(early_open, "closed before the header-read limit");
    assert_eq!(
        closed, 250,
        "every silent or half-sent connection was closed"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_when_idle_but_a_long_quiet_stream_is_not() {
    let server = Server::start(timeout_settings()).await;
    let addr = server.addr;
    let kept_alive_closed = tokio::task::spawn_blocking(move || {
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut first = [0_u8; 1024];
        let n = socket.read(&mut first).expect("answer");
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        // Open past the header-read limit (it was used), closed after the idle one.
        let open_at_half = !closed_within(&mut socket, Duration::from_millis(450));
        let closed = closed_within(&mut socket, Duration::from_secs(2));
        open_at_half && closed
    })
    .await
    .expect("socket");
    assert!(
        kept_alive_closed,
        "kept open past idle, or closed too early"
    );

    // 1.2 s without a byte before the first chunk: longer than the idle limit.
    let read = stream_with(&reqwest::Client::new(), &server, &body("quiet"), None).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.record.outcome,
        sse_core::load::recorder::Outcome::Completed,
        "a stream in flight is never idle"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_users_are_told_apart_by_x_forwarded_for() {
    let settings = |trusted: Vec<std::net::IpAddr>| Settings {
        per_user_limit: 1,
        trusted_proxies: trusted,
        fake: FakeLlmSettings {
            ttft_min_ms: 600,
            ttft_max_ms: 600,
            ..fast_settings().fake
        },
        ..fast_settings()
    };
    let layers = |server: &Server| {
        let client = reqwest::Client::new();
        let urls = [server.url("stream"), server.url("stream")];
        async move {
            let send = |url: String, forwarded: &'static str| {
                let client = client.clone();
                async move {
                    let answer = client
                        .post(url)
                        .header("X-Forwarded-For", forwarded)
                        .json(&body("who am I"))
                        .send()
                        .await
                        .expect("post");
                    answer
                        .headers()
                        .get("x-resilience-layer")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                        .unwrap_or_default()
                }
            };
            let [a, b] = urls;
            let first = tokio::spawn(send(a, "203.0.113.7"));
            tokio::time::sleep(Duration::from_millis(150)).await;
            let second = send(b, "203.0.113.8, 127.0.0.1").await;
            (first.await.expect("first"), second)
        }
    };
    let trusted = Server::start(settings(vec!["127.0.0.1".parse().expect("ip")])).await;
    let (first, second) = layers(&trusted).await;
    assert_eq!((first.as_str(), second.as_str()), ("1-Direct", "1-Direct"));

    // From an untrusted peer the header is ignored: both are 127.0.0.1.
    let untrusted = Server::start(settings(Vec::new())).await;
    let (first, second) = layers(&untrusted).await;
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("1-Direct", "3-Queue-Failover")
    );
}

#[test]
fn the_client_is_the_nearest_untrusted_forwarded_address() {
    use axum::http::HeaderMap;
    use sse_backend::streaming::client_ip;
    let proxy: std::net::IpAddr = "10.0.0.1".parse().expect("ip");
    let peer_only: std::net::IpAddr = "192.0.2.9".parse().expect("ip");
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        "198.51.100.1, 203.0.113.5, 10.0.0.1"
            .parse()
            .expect("value"),
    );
    assert_eq!(
        client_ip(&headers, proxy, &[proxy]),
        "203.0.113.5".parse::<std::net::IpAddr>().expect("ip")
    );
    // Not from a trusted proxy: the peer, whatever the header says.
    assert_eq!(client_ip(&headers, peer_only, &[proxy]), peer_only);
    // An unreadable hop ends the trusted chain.
    headers.insert(
        "x-forwarded-for",
        "garbage, 10.0.0.1".parse().expect("value"),
    );
    assert_eq!(client_ip(&headers, proxy, &[proxy]), proxy);
}
