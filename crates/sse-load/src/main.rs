//! `sse-load`: the dashboard's load test, headless. The plan, the engine's
//! decisions, the statistics, the SLO verdict, the sweep and the report are the
//! core's (`sse_core::load`), the same as the browser's load tester; this
//! program sends the requests natively (tokio + reqwest), prints the summary and
//! writes the reports. Exit codes: see [`Exit`].

mod cli;
mod clock;
mod engine;
mod progress;
mod request;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sse_core::load::junit::to_junit;
use sse_core::load::plan::{form_from_json, LoadForm, PlanLimits};
use sse_core::load::report::{to_csv, to_json};
use sse_core::load::request_row::RequestRow;
use sse_core::load::slo::VerdictState;
use sse_core::load::summary_text::summary_text;
use tokio_util::sync::CancellationToken;

use cli::{flag_of, Cli, Command, RunArgs};

/// How `sse-load` ends (its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// The run completed and every SLO held (or none was set).
    Passed = 0,
    /// The run could not be made: the service unreachable, every request
    /// failed before an answer, a report not written.
    NoRun = 1,
    /// Bad input: a flag, the plan, the URL.
    BadInput = 2,
    /// An SLO failed (k6's code for a failed threshold).
    SloFailed = 99,
}

/// Whether the run reached the service at all: some request got an answer
/// (any HTTP status), or was stopped by hand before one.
fn reached_service(rows: &[RequestRow]) -> bool {
    rows.iter()
        .any(|r| r.status.is_some() || r.outcome == "aborted")
}

fn bad_input(message: impl std::fmt::Display) -> (Exit, String) {
    (Exit::BadInput, message.to_string())
}

/// The form: the plan file's (or the default), with the flags given.
fn form_of(args: &RunArgs) -> Result<LoadForm, (Exit, String)> {
    let form = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                bad_input(format!("--plan {}: cannot read it: {e}", path.display()))
            })?;
            form_from_json(&text)
                .map_err(|e| bad_input(format!("--plan {}: {e}", path.display())))?
        }
        None => LoadForm::default(),
    };
    Ok(args.form.apply(form))
}

/// The API base without a trailing slash; http or https only.
fn api_base(url: &str) -> Result<String, (Exit, String)> {
    let parsed = reqwest::Url::parse(url).map_err(|e| bad_input(format!("--url {url}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad_input(format!(
            "--url {url}: not an http:// or https:// address"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Opens each output file now, so that a path that cannot be written is said
/// before the run, not after it.
fn check_writable(paths: &[&Option<std::path::PathBuf>]) -> Result<(), (Exit, String)> {
    for path in paths.iter().copied().flatten() {
        std::fs::File::create(path)
            .map_err(|e| bad_input(format!("{}: cannot write it: {e}", path.display())))?;
    }
    Ok(())
}

fn write(path: &Option<std::path::PathBuf>, text: impl FnOnce() -> String) -> Result<(), String> {
    match path {
        Some(path) => std::fs::write(path, text())
            .map_err(|e| format!("{}: cannot write it: {e}", Path::new(path).display())),
        None => Ok(()),
    }
}

/// One stream is one file descriptor: as many as the system lets this process have.
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn run(args: RunArgs) -> Result<Exit, (Exit, String)> {
    let form = form_of(&args)?;
    let plan = form.plan_within(PlanLimits::NATIVE).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| match &p.field {
                Some(field) => format!("{}: {}", flag_of(field), p.message),
                None => p.message.clone(),
            })
            .collect();
        bad_input(lines.join("\nsse-load: "))
    })?;
    let base = api_base(&args.url)?;
    check_writable(&[&args.report, &args.csv, &args.junit])?;
    raise_open_files_limit();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(args.insecure)
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(usize::MAX)
        .build()
        .map_err(|e| (Exit::NoRun, format!("cannot make an HTTP client: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| (Exit::NoRun, format!("cannot start the runtime: {e}")))?;
    let stop = CancellationToken::new();
    let run = runtime.block_on(async {
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.cancel();
                // A second Ctrl-C does not wait for the report.
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        engine::drive(
            plan,
            form,
            engine::Target { client, base },
            stop,
            progress::Progress::new(args.quiet),
        )
        .await
    });
    let summary = run.summary();
    let rows = run.joined_rows();
    println!();
    print!("{}", summary_text(&summary));
    let written = [
        write(&args.report, || to_json(&summary, &rows)),
        write(&args.csv, || to_csv(&summary, &rows)),
        write(&args.junit, || to_junit(&summary, &rows)),
    ];
    if let Some(Err(problem)) = written.into_iter().find(Result::is_err) {
        return Err((Exit::NoRun, problem));
    }
    if !reached_service(&rows) {
        let why = rows
            .first()
            .and_then(|r| r.message.clone())
            .unwrap_or_else(|| "no request was sent".into());
        return Err((Exit::NoRun, format!("the run reached no service: {why}")));
    }
    Ok(match summary.verdict.state {
        VerdictState::Fail => Exit::SloFailed,
        VerdictState::Pass | VerdictState::None => Exit::Passed,
    })
}

fn main() -> ExitCode {
    let Cli {
        command: Command::Run(args),
    } = Cli::parse();
    let exit = match run(args) {
        Ok(exit) => exit,
        Err((exit, message)) => {
            eprintln!("sse-load: {message}");
            exit
        }
    };
    ExitCode::from(exit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_core::load::recorder::RequestRecorder;

    #[test]
    fn a_run_whose_requests_all_failed_before_an_answer_reached_no_service() {
        let refused = RequestRecorder::new(0.0).finish_network_error(1.0, "refused".into());
        let row = |record| RequestRow::new(0, 0.0, &record);
        assert!(!reached_service(&[row(refused.clone())]));
        assert!(!reached_service(&[]));
        let mut answered = RequestRecorder::new(0.0);
        answered.on_headers(1.0, 503, None, None);
        let answered = answered.finish_http_status(2.0, 503, "{}");
        assert!(reached_service(&[row(refused), row(answered)]));
        let stopped = RequestRecorder::new(0.0).finish_aborted(1.0);
        assert!(reached_service(&[row(stopped)]));
    }

    #[test]
    fn a_url_must_be_http() {
        assert_eq!(
            api_base("http://127.0.0.1:8000/api/v1/"),
            Ok("http://127.0.0.1:8000/api/v1".into())
        );
        assert!(api_base("ftp://x/api").is_err());
        assert!(api_base("127.0.0.1:8000").is_err());
    }

    #[test]
    fn a_form_field_is_named_by_its_flag() {
        assert_eq!(flag_of("duration"), "--duration-s");
        assert_eq!(flag_of("max-in-flight"), "--max-in-flight");
        assert_eq!(flag_of("slo-good"), "--slo-good-pct");
    }
}
