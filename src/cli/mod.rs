//! The command line, as clap types only: flags follow OSMO's spelling (DESIGN §5).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

mod db;
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
    /// Database file (default: ~/.local/share/osmo/osmo.db).
    #[arg(long, global = true, env = "OSMO_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Specify the output format type (Default text).
    #[arg(short = 't', long, global = true, value_enum, default_value_t = Format::Text)]
    pub format_type: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database with a first admin other than `admin`.
    #[command(
        long_about = "Create the database with a first admin other than `admin`.\n\n\
        Any other command creates the database on first use with the admin `admin`.\n\n\
        Ex. osmo init --admin alice@example.com"
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
        nothing is contacted.\n\n\
        Ex. osmo login https://osmo.example.com --method token --token-file ~/.osmo-token"
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
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// End the login session for this database.
    #[command(long_about = "End the login session for this database.\n\nEx. osmo logout")]
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
    /// Print shell completions.
    #[command(
        long_about = "Print shell completions.\n\nEx. osmo completion bash > /etc/bash_completion.d/osmo"
    )]
    Completion { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (admin only).
    #[command(long_about = "Create a user (admin only).\n\n\
        Ex. osmo user create backend-operator --roles osmo-backend")]
    Create {
        /// User id, for example svc-backend or alice@example.com.
        id: String,
        /// Roles to assign. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// List users (admin only).
    #[command(long_about = "List users (admin only).\n\n\
        Ex. osmo user list --id-prefix backend-\n\
        Ex. osmo user list --roles osmo-backend")]
    List {
        /// Only users whose id starts with this.
        #[arg(short = 'p', long, value_name = "PREFIX")]
        id_prefix: Option<String>,
        /// Only users holding any of these roles.
        #[arg(short, long, num_args = 1.., value_name = "ROLE")]
        roles: Vec<String>,
        /// Show at most this many users.
        #[arg(short, long, default_value_t = 100)]
        count: u32,
    },
    /// Show a user and the roles it holds (admins, or the user itself).
    #[command(
        long_about = "Show a user and the roles it holds (admins, or the user itself).\n\n\
        Ex. osmo user get backend-operator"
    )]
    Get { id: String },
    /// Add or remove a user's roles (admin only).
    #[command(long_about = "Add or remove a user's roles (admin only).\n\n\
        Removing a role from a user removes it from all of that user's tokens.\n\n\
        Ex. osmo user update backend-operator --add-roles osmo-ml-team\n\
        Ex. osmo user update backend-operator --remove-roles osmo-ml-team")]
    Update {
        id: String,
        /// Roles to add. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE")]
        add_roles: Vec<String>,
        /// Roles to remove. Can be specified multiple times.
        #[arg(short, long, num_args = 1.., value_name = "ROLE")]
        remove_roles: Vec<String>,
    },
    /// Delete a user with all of its roles and tokens (admin only).
    #[command(
        long_about = "Delete a user with all of its roles and tokens (admin only).\n\n\
        Ex. osmo user delete backend-operator --force"
    )]
    Delete {
        id: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// List every role.
    #[command(long_about = "List every role.\n\nEx. osmo role list")]
    List,
    /// Create a role (admin only).
    #[command(long_about = "Create a role (admin only).\n\n\
        Ex. osmo role create osmo-ml-team -d \"ML team\"")]
    Create {
        name: String,
        /// What the role is for.
        #[arg(short, long, default_value = "")]
        description: String,
    },
    /// Delete a custom role, removing it from every user and token (admin only).
    #[command(
        long_about = "Delete a custom role, removing it from every user and token (admin only).\n\n\
        Ex. osmo role delete osmo-ml-team --force"
    )]
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show every setting.
    #[command(long_about = "Show every setting.\n\nEx. osmo config list")]
    List,
    /// Show one setting.
    #[command(long_about = "Show one setting.\n\nEx. osmo config get max-tokens-per-user")]
    Get { key: String },
    /// Change a setting (admin only).
    #[command(long_about = "Change a setting (admin only).\n\n\
        Settings: max-tokens-per-user (5, 0 = no limit), default-token-lifetime (31d),\n\
        max-token-lifetime (365d), session-idle-timeout (12h), operator-access (true).\n\n\
        Ex. osmo config set max-tokens-per-user 10")]
    Set {
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Show the user you act as, how you logged in, and your roles.
    #[command(
        long_about = "Show the user you act as, how you logged in, and your roles.\n\nEx. osmo profile list"
    )]
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the newest events first: changes, failed logins and failed verifies.
    #[command(
        long_about = "Show the newest events first: changes, failed logins and failed verifies (admin only).\n\n\
        Ex. osmo audit list --user backend-operator -c 20"
    )]
    List {
        /// Only events where this user is the actor or the target.
        #[arg(short, long)]
        user: Option<String>,
        /// Show at most this many events.
        #[arg(short, long, default_value_t = 100)]
        count: u32,
    },
}
