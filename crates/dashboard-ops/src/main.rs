//! `dashboard-ops`: the dashboard's lifecycle CLI (the definitions are in
//! `cli.rs`, each verb in `verbs/`).

mod cli;
mod verbs;

use clap::Parser;

use cli::{Cli, StartArgs, Verb};

fn start(args: &StartArgs) -> anyhow::Result<()> {
    if args.mode.local {
        verbs::start_local::start_local(args)
    } else {
        verbs::start_docker::start_docker(args)
    }
}

fn main() {
    let result = match Cli::parse().command {
        Verb::Start(args) => start(&args),
        Verb::Stop(mode) => verbs::stop::stop(&mode),
        Verb::Status(args) => verbs::status::status(&args),
        Verb::Restart(args) => verbs::stop::stop(&args.mode).and_then(|()| start(&args)),
    };
    if let Err(error) = result {
        eprintln!("dashboard-ops: {error:#}");
        std::process::exit(1);
    }
}
