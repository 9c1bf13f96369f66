//! What a running `dashboard-ops start --local` leaves for `status --local` and
//! `stop --local`: its process id and addresses, in a file under target/.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// The state of a local stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalState {
    pub pid: u32,
    pub url: String,
    pub tls_url: Option<String>,
    pub backend_url: String,
}

/// `<project>/target/dashboard-ops/local.json`, or the file named by
/// `DASHBOARD_OPS_STATE` (tests use their own).
pub fn state_file(project: &Path) -> PathBuf {
    match std::env::var_os("DASHBOARD_OPS_STATE") {
        Some(path) => PathBuf::from(path),
        None => project
            .join("target")
            .join("dashboard-ops")
            .join("local.json"),
    }
}

impl LocalState {
    pub fn write(&self, project: &Path) -> std::io::Result<()> {
        let path = state_file(project);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let value = json!({
            "pid": self.pid,
            "url": self.url,
            "tls_url": self.tls_url,
            "backend_url": self.backend_url,
        });
        std::fs::write(path, format!("{value:#}\n"))
    }

    /// The recorded state, if there is one that reads.
    pub fn read(project: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(state_file(project)).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        Some(Self {
            pid: u32::try_from(value["pid"].as_u64()?).ok()?,
            url: value["url"].as_str()?.to_owned(),
            tls_url: value["tls_url"].as_str().map(str::to_owned),
            backend_url: value["backend_url"].as_str()?.to_owned(),
        })
    }

    pub fn remove(project: &Path) {
        let _ = std::fs::remove_file(state_file(project));
    }

    /// Whether the recorded process still runs.
    pub fn is_alive(&self) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(self.pid as libc::pid_t, 0) == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_liveness() {
        let project = tempfile::tempdir().expect("dir");
        assert_eq!(LocalState::read(project.path()), None);
        let state = LocalState {
            pid: std::process::id(),
            url: "http://127.0.0.1:3001".into(),
            tls_url: None,
            backend_url: "http://127.0.0.1:8000".into(),
        };
        state.write(project.path()).expect("write");
        assert_eq!(LocalState::read(project.path()), Some(state.clone()));
        assert!(state.is_alive());
        LocalState::remove(project.path());
        assert_eq!(LocalState::read(project.path()), None);
    }
}
