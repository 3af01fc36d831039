//! `osmo`: parse, run, turn the one result into one exit code (DESIGN §6).

use std::process::ExitCode;

use osmo_local::cli::{self, Cli, Refused};
use osmo_local::output::{self, Format};
use osmo_local::{commands, completion};

fn main() -> ExitCode {
    // A shell asking for completions (the script `osmo completion SHELL` prints) gets
    // them here, and the process ends; otherwise this only looks at one variable.
    completion::answer_shell(cli::command);
    let cli = match Cli::parse_args(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(Refused::Clap(err)) => {
            // Help, version, or a text-mode usage error (exit 2); a closed pipe is fine.
            let _ = err.print();
            return ExitCode::from(err.exit_code() as u8);
        }
        Err(Refused::Json(err)) => {
            output::error(Format::Json, &err);
            return ExitCode::from(err.exit_code());
        }
    };
    let format = cli.global.format_type;
    match commands::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            output::error(format, &err);
            ExitCode::from(err.exit_code())
        }
    }
}
