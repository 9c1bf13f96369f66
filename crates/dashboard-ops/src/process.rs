//! Child processes that never outlive their owner.
//!
//! Every child is started in its own process group, so that stopping it also
//! stops what it started (nginx's workers, chromedriver's Chromium). On Linux the
//! kernel also kills it if the thread that started it dies without cleaning up.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A running child; dropping it terminates its whole process group.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Supervised {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> anyhow::Result<Self> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        #[cfg(target_os = "linux")]
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `max_bytes` of the child's output, for error messages.
    pub fn log_tail(&self, max_bytes: usize) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(max_bytes);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    /// Starts a server and waits until it accepts connections on `addr`.
    pub fn spawn_listening(
        name: &str,
        command: Command,
        log: &Path,
        addr: SocketAddr,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut process = Self::spawn(name, command, log)?;
        process.wait_for_port(addr, timeout)?;
        Ok(process)
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until `addr` accepts TCP connections, failing early if the child exits.
    pub fn wait_for_port(&mut self, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                bail!(
                    "{} exited ({status}) before listening on {addr}; its output:\n{}",
                    self.name,
                    self.log_tail(4000)
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not listen on {addr} within {timeout:?}; its output:\n{}",
                    self.name,
                    self.log_tail(4000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL to the group at once, as a crash would end it: no clean-up.
    pub fn kill(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // SAFETY: a plain syscall on a process group we created.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// SIGTERM to the group, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: plain syscalls on a process group we created.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (the child or its own children) goes now.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_local_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Finds `program` on PATH (or takes it as a path when it contains a slash).
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True while `pid` exists and is not a zombie (an orphan may wait long for a
    /// reaper when PID 1 is not an init).
    fn is_running(pid: libc::pid_t) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state is the first field after the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X"),
            Err(_) => false,
        }
    }

    #[test]
    fn stop_kills_the_whole_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The shell starts a grandchild; both must be gone after stop.
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 30 & echo $! > grandchild.pid; wait"])
            .current_dir(dir.path());
        let mut child = Supervised::spawn("sh", command, &dir.path().join("log")).expect("spawn");
        let pid_file = dir.path().join("grandchild.pid");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&pid_file).map_or(true, |s| !s.ends_with('\n')) {
            assert!(Instant::now() < deadline, "grandchild never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let grandchild: libc::pid_t = std::fs::read_to_string(&pid_file)
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid");
        child.stop(Duration::from_millis(500));
        assert!(child.exited().is_some());
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_running(grandchild) {
            assert!(
                Instant::now() < deadline,
                "grandchild {grandchild} survived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn wait_for_port_reports_an_early_exit_with_its_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new("sh");
        command.args(["-c", "echo cannot bind >&2; exit 3"]);
        let mut child =
            Supervised::spawn("fails", command, &dir.path().join("log")).expect("spawn");
        let port = free_local_port().expect("port");
        let error = child
            .wait_for_port(
                SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(10),
            )
            .expect_err("must fail");
        let text = error.to_string();
        assert!(text.contains("fails exited"), "{text}");
        assert!(text.contains("cannot bind"), "{text}");
    }
}
