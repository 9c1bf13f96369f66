//! How far the run is: on a terminal one line redrawn every second; when
//! stdout is not a terminal (a CI log), a plain line every 5 s.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use sse_core::format;
use sse_core::load::run::Run;

pub struct Progress {
    terminal: bool,
    quiet: bool,
    /// A line is drawn that the next one replaces.
    drawn: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Self {
            terminal: std::io::stdout().is_terminal(),
            quiet,
            drawn: false,
        }
    }

    pub fn every(&self) -> Duration {
        Duration::from_secs(if self.terminal { 1 } else { 5 })
    }

    /// "12.0 s · sent 240 · ended 230 · active 10 · 19.8 req/s · p95 TTFT 52.1 ms".
    fn line(run: &Run, now_ms: f64) -> String {
        let ended = run.rows.len() as u64;
        let mut line = format!(
            "{:>7.1} s · sent {} · ended {} ({} failed) · active {} · {} completed · p95 TTFT {}",
            run.elapsed_ms(now_ms) / 1000.0,
            format::count(ended + run.active()),
            format::count(ended),
            format::count(run.stats.failed),
            format::count(run.active()),
            format::rate(run.stats.requests_per_s(Some(now_ms))),
            format::duration_ms(run.stats.ttft.percentile(95.0)),
        );
        if let Some(step) = run.step_text() {
            line.push_str(" · ");
            line.push_str(&step);
        }
        line
    }

    pub fn show(&mut self, run: &Run, now_ms: f64) {
        if self.quiet {
            return;
        }
        let line = Self::line(run, now_ms);
        let mut out = std::io::stdout().lock();
        let _ = if self.terminal {
            self.drawn = true;
            write!(out, "\r\x1b[2K{line}")
        } else {
            writeln!(out, "{line}")
        };
        let _ = out.flush();
    }

    pub fn stopping(&mut self) {
        self.end_line();
        if !self.quiet {
            println!("stopping: every request in flight is aborted; the report is still written");
        }
    }

    /// The last line, kept; the summary follows it.
    pub fn finish(&mut self, run: &Run, now_ms: f64) {
        self.show(run, now_ms);
        self.end_line();
    }

    fn end_line(&mut self) {
        if self.drawn {
            println!();
            self.drawn = false;
        }
    }
}
