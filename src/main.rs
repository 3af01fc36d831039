//! `osmo`: parse, run, turn the one result into one exit code (DESIGN §6).

use std::process::ExitCode;

use clap::Parser;
use osmo_local::{cli::Cli, commands, output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.global.format_type;
    match commands::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            output::error(format, &err);
            ExitCode::from(err.exit_code())
        }
    }
}
