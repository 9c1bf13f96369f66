//! `stop`: the container, or the local stack through its state file.

use std::time::{Duration, Instant};

use anyhow::bail;
use dashboard_ops::docker::Docker;
use dashboard_ops::local_state::LocalState;

use super::project;
use crate::cli::ModeArgs;

pub fn stop(mode: &ModeArgs) -> anyhow::Result<()> {
    let project = project()?;
    if !mode.local {
        let docker = Docker::connect()?;
        docker.compose(&project, &["down"])?;
        println!("Stopped.");
        return Ok(());
    }
    let Some(state) = LocalState::read(&project) else {
        println!(
            "No local dashboard is running (no {}).",
            dashboard_ops::local_state::state_file(&project).display()
        );
        return Ok(());
    };
    if !state.is_alive() {
        LocalState::remove(&project);
        println!(
            "The local dashboard (pid {}) had already stopped.",
            state.pid
        );
        return Ok(());
    }
    // SAFETY: a plain signal to the process recorded by `start --local`.
    unsafe { libc::kill(state.pid as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    // Done when the process is gone or has removed its state (its last act;
    // a parent that has not reaped it yet keeps it "alive" as a zombie).
    while state.is_alive() && LocalState::read(&project).is_some() {
        if Instant::now() > deadline {
            bail!(
                "pid {} did not stop within 15 s; stop it with `kill {}`",
                state.pid,
                state.pid
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("Stopped the local dashboard (pid {}).", state.pid);
    Ok(())
}
