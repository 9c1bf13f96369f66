//! A plain HTTP/1.1 GET with a time limit, for health checks of services on
//! this machine or the Docker host (http:// only; no client library needed).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// A 2xx answer, with its body.
    Up(String),
    /// No usable answer, and why (for people).
    Down(String),
}

/// GET `url` (`http://host[:port]/path`), giving up after `timeout`.
pub fn get(url: &str, timeout: Duration) -> Health {
    match try_get(url, timeout) {
        Ok((status, body)) if (200..300).contains(&status) => Health::Up(body),
        Ok((status, body)) => Health::Down(format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        )),
        Err(reason) => Health::Down(reason),
    }
}

/// Waits up to `timeout` for `url` to answer healthy (2xx); the last answer.
pub fn wait_healthy(url: &str, timeout: Duration) -> Health {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let health = get(
            url,
            left.min(Duration::from_secs(3))
                .max(Duration::from_millis(200)),
        );
        if matches!(health, Health::Up(_)) || Instant::now() >= deadline {
            return health;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn try_get(url: &str, timeout: Duration) -> Result<(u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url} is not an http:// URL"))?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let started = Instant::now();
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    let left = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    stream
        .set_read_timeout(Some(left))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(left))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {authority}: {e}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| {
        format!(
            "no answer from {authority} within {} ms ({e})",
            timeout.as_millis()
        )
    })?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("an answer that is not HTTP")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("an answer without a status")?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn up_down_and_nothing_listening() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            for answer in [
                "200 OK\r\n\r\n{\"status\":\"healthy\"}",
                "503 Service Unavailable\r\n\r\nbusy",
            ] {
                let (mut socket, _) = listener.accept().expect("accept");
                // The whole request first: answering early would cut the client's write.
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n")
                    && socket.read(&mut byte).is_ok_and(|n| n == 1)
                {
                    request.push(byte[0]);
                }
                let _ = write!(socket, "HTTP/1.1 {answer}");
            }
        });
        let url = format!("http://127.0.0.1:{port}/api/v1/health");
        assert_eq!(
            get(&url, Duration::from_secs(2)),
            Health::Up("{\"status\":\"healthy\"}".into())
        );
        assert_eq!(
            get(&url, Duration::from_secs(2)),
            Health::Down("HTTP 503: busy".into())
        );
        server.join().expect("server");
        match get(&url, Duration::from_secs(2)) {
            Health::Down(reason) => assert!(reason.contains("cannot connect"), "{reason}"),
            up => panic!("{up:?}"),
        }
        assert!(
            matches!(get("https://x/", Duration::from_secs(1)), Health::Down(r) if r.contains("not an http://"))
        );
    }
}
