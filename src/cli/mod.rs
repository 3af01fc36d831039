//! The command line, as clap types only: flags follow OSMO's spelling (DESIGN §5).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, FromArgMatches, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::completion;
use crate::error::Error;
use crate::output::Format;

mod db;
pub mod man;
mod token;

pub use db::DbCommand;
pub use token::{ApitokenCommand, ExpiryArgs, TokenCommand};

#[derive(Debug, Parser)]
#[command(
    name = "osmo",
    version,
    about = "Local users, roles and personal access tokens, kept in one SQLite file.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Database file, or a postgres:// URL [env: OSMO_DB] (default: ~/.local/share/osmo/osmo.db).
    // Not clap's `env`: with OSMO_DB set, clap's usage line shows `--db <PATH>` as if it
    // were required. `invocation::Location` reads the variable instead.
    #[arg(long, global = true, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub db: Option<PathBuf>,
    /// Specify the output format type (Default text).
    #[arg(short = 't', long, global = true, value_enum, default_value_t = Format::Text)]
    pub format_type: Format,
}

/// The environment variables osmo reads, for `--help` and the manual page.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "OSMO_DB",
        "The database when --db is not given: a file (default: ~/.local/share/osmo/osmo.db), or a postgres:// URL.",
    ),
    (
        "OSMO_TOKEN",
        "Run as this token's user, with this token's roles. A bad token fails (exit 6); it never falls back to the login session or the operator.",
    ),
    (
        "OSMO_TOKEN_FILE",
        "A file holding the token to run as (- for standard input).",
    ),
    (
        "OSMO_CONFIG_FILE_DIR",
        "The folder of login.json, the login session file (default: ~/.config/osmo).",
    ),
    ("NO_COLOR", "When set, help and prompts are not coloured."),
];

/// The files osmo keeps, for the manual page.
pub const FILES: &[(&str, &str)] = &[
    (
        "~/.local/share/osmo/osmo.db",
        "The default database (mode 0600, folder 0700), created on first use. Whoever can write it is an admin of it.",
    ),
    (
        "~/.config/osmo/login.json",
        "Login sessions, one per database (mode 0600): a session credential of its own, never the token.",
    ),
];

/// What each exit code means (DESIGN §6), for `--help` and the manual page.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "Unexpected failure: I/O, or a database that is missing, busy, read-only, damaged or not osmo's.",
    ),
    (
        "2",
        "Invalid input or usage: flags, names, dates, durations, a missing confirmation or token file.",
    ),
    ("3", "Permission denied (403)."),
    ("4", "Not found: user, token, role."),
    (
        "5",
        "Conflict: already exists, token limit, last admin, built-in role, the operator-user.",
    ),
    (
        "6",
        "Authentication failed: a malformed, unknown, expired or deleted token, an ended session, or no token when operator-access is false.",
    ),
    ("7", "token scan found at least one active token."),
];

/// The command line as clap sees it: the derived definitions, with the environment and
/// exit codes summed up at the end of the top-level help (as `gh help environment` does).
pub fn command() -> clap::Command {
    let mut footer = String::from("Environment:\n");
    for (name, meaning) in ENVIRONMENT {
        footer.push_str(&format!("  {name:<22}{}\n", first_sentence(meaning)));
    }
    footer.push_str("\nExit status:\n");
    for (code, meaning) in EXIT_STATUS {
        footer.push_str(&format!("  {code}  {meaning}\n"));
    }
    footer.push_str("\nSee `osmo man | man -l -` for the whole manual.");
    <Cli as clap::CommandFactory>::command().after_help(footer)
}

fn first_sentence(text: &str) -> &str {
    text.split_once(". ")
        .map_or(text, |(first, _)| &text[..first.len() + 1])
}

impl Cli {
    /// Parses `args`; a refusal becomes `Error::Usage` when the command line asked for JSON
    /// (DESIGN §6), so scripts reading stderr get JSON whatever went wrong. Help and
    /// version requests, and refusals in text mode, stay clap's own.
    pub fn parse_args(args: Vec<OsString>) -> Result<Cli, Refused> {
        let json = asks_for_json(&args);
        command()
            .try_get_matches_from(args)
            .and_then(|matches| Cli::from_arg_matches(&matches))
            .map_err(|err| match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Refused::Clap(err),
                _ if json => Refused::Json(Error::Usage(one_line(&err))),
                _ => Refused::Clap(err),
            })
    }
}

/// Why the command line did not parse, and how to tell the user.
pub enum Refused {
    /// clap prints it (help, version, or a usage error in text mode).
    Clap(clap::Error),
    /// A usage error for a JSON caller.
    Json(Error),
}

/// Whether `-t json`, `-tjson`, `-t=json`, `--format-type json` or `--format-type=json`
/// is on the command line (before a `--`).
fn asks_for_json(args: &[OsString]) -> bool {
    let args: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or(""))
        .take_while(|a| *a != "--")
        .collect();
    args.iter().enumerate().any(|(i, arg)| match *arg {
        "-t" | "--format-type" => args.get(i + 1) == Some(&"json"),
        _ => matches!(*arg, "-tjson" | "-t=json" | "--format-type=json"),
    })
}

/// clap's message on one line, without its `error:` prefix and `--help` hint:
/// `unexpected argument '--x' found (usage: osmo token set [OPTIONS] <NAME>)`.
fn one_line(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let mut message = Vec::new();
    let mut usage = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("Usage: ") {
            usage = Some(rest.to_string());
        } else if !line.starts_with("For more information") {
            message.push(line.strip_prefix("error: ").unwrap_or(line));
        }
    }
    let mut message = message.join(" ");
    if let Some(usage) = usage {
        message.push_str(&format!(" (usage: {usage})"));
    }
    message
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database with a first admin other than `admin`.
    #[command(
        long_about = "Create the database with a first admin other than `admin`.\n\n\
        Any other command creates the database on first use with the admin `admin`.",
        after_help = "Ex. osmo init --admin alice@example.com",
        after_long_help = "Ex. osmo init --admin alice@example.com"
    )]
    Init {
        /// User id of the first admin, whom the local operator acts as.
        #[arg(long, value_name = "ID")]
        admin: String,
    },
    /// Manage personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// VAST-compatible API tokens.
    #[command(subcommand)]
    Apitoken(ApitokenCommand),
    /// Log in with a personal access token; later commands run as its user.
    #[command(
        long_about = "Log in with a personal access token; later commands run as its user.\n\n\
        The session file keeps a session credential of its own, never the token. Without\n\
        --token or --token-file the token is asked for on a terminal, or read as one line\n\
        of standard input. The URL is accepted for OSMO scripts and shown by `profile list`;\n\
        nothing is contacted.",
        after_help = "Ex. osmo login https://osmo.example.com --method token --token-file ~/.osmo-token",
        after_long_help = "Ex. osmo login https://osmo.example.com --method token --token-file ~/.osmo-token"
    )]
    Login {
        /// The OSMO service URL (recorded, not contacted).
        url: Option<String>,
        /// Login method; this local build supports `token`.
        #[arg(long, default_value = "token")]
        method: String,
        /// The token itself (visible to other users in the process list; prefer --token-file).
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        /// A file holding the token.
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        token_file: Option<PathBuf>,
    },
    /// End the login session for this database.
    #[command(after_help = "Ex. osmo logout", after_long_help = "Ex. osmo logout")]
    Logout,
    /// Show who you are.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Read the audit log (admin only).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage users and their roles (admin only, except `user get` of yourself).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the role catalogue.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Read and change settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check, back up and restore the database file.
    #[command(subcommand)]
    Db(DbCommand),
    /// Print the manual page (roff): osmo man | man -l -
    #[command(
        after_help = "Ex. osmo man | man -l -",
        after_long_help = "Ex. osmo man | man -l -\n\
        Ex. osmo man > /usr/local/share/man/man1/osmo.1"
    )]
    Man,
    /// Print a shell's completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        long_about = "Print a shell's completion script (bash, zsh, fish, elvish, powershell).\n\n\
        It completes commands and flags, and from the database token names, user ids, role\n\
        names and setting keys. The script calls osmo back, so load it anew when the shell\n\
        starts rather than keeping a copy that a newer osmo may not match.",
        after_help = "Ex. echo 'source <(osmo completion bash)' >> ~/.bashrc",
        after_long_help = "Ex. echo 'source <(osmo completion bash)' >> ~/.bashrc\n\
        Ex. echo 'source <(osmo completion zsh)' >> ~/.zshrc\n\
        Ex. echo 'osmo completion fish | source' > ~/.config/fish/completions/osmo.fish"
    )]
    Completion { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (admin only).
    #[command(
        after_help = "Ex. osmo user create backend-operator --roles osmo-backend",
        after_long_help = "Ex. osmo user create backend-operator --roles osmo-backend"
    )]
    Create {
        /// User id, for example svc-backend or alice@example.com.
        id: String,
        /// Roles to assign. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        roles: Vec<String>,
    },
    /// List users (admin only).
    #[command(
        after_help = "Ex. osmo user list --id-prefix backend-",
        after_long_help = "Ex. osmo user list --id-prefix backend-\n\
        Ex. osmo user list --roles osmo-backend"
    )]
    List {
        /// Only users whose id starts with this.
        #[arg(short = 'p', long, value_name = "PREFIX")]
        id_prefix: Option<String>,
        /// Only users holding any of these roles.
        #[arg(short, long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        roles: Vec<String>,
        /// Show at most this many users.
        #[arg(short, long, default_value_t = 100)]
        count: u32,
    },
    /// Show a user and the roles it holds (admins, or the user itself).
    #[command(
        after_help = "Ex. osmo user get backend-operator",
        after_long_help = "Ex. osmo user get backend-operator"
    )]
    Get {
        #[arg(add = ArgValueCompleter::new(completion::user_ids))]
        id: String,
    },
    /// Add or remove a user's roles (admin only).
    #[command(
        long_about = "Add or remove a user's roles (admin only).\n\n\
        Removing a role from a user removes it from all of that user's tokens.",
        after_help = "Ex. osmo user update backend-operator --add-roles osmo-ml-team",
        after_long_help = "Ex. osmo user update backend-operator --add-roles osmo-ml-team\n\
        Ex. osmo user update backend-operator --remove-roles osmo-ml-team"
    )]
    Update {
        #[arg(add = ArgValueCompleter::new(completion::user_ids))]
        id: String,
        /// Roles to add. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        add_roles: Vec<String>,
        /// Roles to remove. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        remove_roles: Vec<String>,
    },
    /// Delete a user with all of its roles and tokens (admin only).
    #[command(
        after_help = "Ex. osmo user delete backend-operator --force",
        after_long_help = "Ex. osmo user delete backend-operator --force"
    )]
    Delete {
        #[arg(add = ArgValueCompleter::new(completion::user_ids))]
        id: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// List every role.
    #[command(
        after_help = "Ex. osmo role list",
        after_long_help = "Ex. osmo role list"
    )]
    List,
    /// Create a role (admin only).
    #[command(
        after_help = "Ex. osmo role create osmo-ml-team -d \"ML team\"",
        after_long_help = "Ex. osmo role create osmo-ml-team -d \"ML team\""
    )]
    Create {
        name: String,
        /// What the role is for.
        #[arg(short, long, default_value = "")]
        description: String,
    },
    /// Delete a custom role, removing it from every user and token (admin only).
    #[command(
        after_help = "Ex. osmo role delete osmo-ml-team --force",
        after_long_help = "Ex. osmo role delete osmo-ml-team --force"
    )]
    Delete {
        #[arg(add = ArgValueCompleter::new(completion::role_names))]
        name: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show every setting.
    #[command(
        after_help = "Ex. osmo config list",
        after_long_help = "Ex. osmo config list"
    )]
    List,
    /// Show one setting.
    #[command(
        after_help = "Ex. osmo config get max-tokens-per-user",
        after_long_help = "Ex. osmo config get max-tokens-per-user"
    )]
    Get {
        #[arg(add = ArgValueCompleter::new(completion::setting_keys))]
        key: String,
    },
    /// Change a setting (admin only).
    #[command(
        long_about = "Change a setting (admin only).\n\n\
        Settings: max-tokens-per-user (5, 0 = no limit), default-token-lifetime (31d),\n\
        max-token-lifetime (365d), session-idle-timeout (12h), operator-access (true).",
        after_help = "Ex. osmo config set max-tokens-per-user 10",
        after_long_help = "Ex. osmo config set max-tokens-per-user 10"
    )]
    Set {
        #[arg(add = ArgValueCompleter::new(completion::setting_keys))]
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Show the user you act as, how you logged in, and your roles.
    #[command(
        after_help = "Ex. osmo profile list",
        after_long_help = "Ex. osmo profile list"
    )]
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the newest events first: changes, failed logins and failed verifies.
    #[command(
        after_help = "Ex. osmo audit list --user backend-operator -c 20",
        after_long_help = "Ex. osmo audit list --user backend-operator -c 20"
    )]
    List {
        /// Only events where this user is the actor or the target.
        #[arg(short, long, add = ArgValueCompleter::new(completion::user_ids))]
        user: Option<String>,
        /// Show at most this many events.
        #[arg(short, long, default_value_t = 100)]
        count: u32,
    },
}
