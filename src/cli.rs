//! The command line, as clap types only: flags follow OSMO's spelling (DESIGN §5).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

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
pub enum DbCommand {
    /// Show where the database is and what it holds (admin only).
    #[command(
        long_about = "Show where the database is and what it holds (admin only).\n\n\
        Ex. osmo db info -t json"
    )]
    Info,
    /// Check the file and osmo's rules: exit 0 if sound, 1 if not.
    #[command(
        long_about = "Check the file and osmo's rules: exit 0 if sound, 1 if not.\n\n\
        Runs SQLite's integrity and foreign-key checks, then osmo's own: every token has a role,\n\
        every token role is held by its owner, someone holds osmo-admin, the operator-user\n\
        exists. Works on a read-only database. Anyone may run it; only an admin sees names.\n\n\
        Ex. osmo db check"
    )]
    Check,
    /// Write a consistent copy of the database while it is in use (admin only).
    #[command(
        long_about = "Write a consistent copy of the database while it is in use (admin only).\n\n\
        The copy is a new file of mode 0600 that passes `osmo db check`.\n\n\
        Ex. osmo db backup /backups/osmo-$(date +%F).db"
    )]
    Backup {
        /// Where to write the copy.
        path: PathBuf,
        /// Replace PATH if it exists.
        #[arg(short, long)]
        force: bool,
    },
    /// Replace the database's contents with a backup's (admin only).
    #[command(
        long_about = "Replace the database's contents with a backup's (admin only).\n\n\
        The backup must be an osmo database of this or an older schema that passes\n\
        `osmo db check`; it replaces the live contents in one step, and every session ends.\n\n\
        Ex. osmo db restore /backups/osmo-2026-11-01.db --force"
    )]
    Restore {
        /// The backup to restore.
        path: PathBuf,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
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

/// When a new token expires; at most one of the two.
#[derive(Debug, Args)]
pub struct ExpiryArgs {
    /// Expiration date of the token (UTC): it stops working at 00:00 UTC that day.
    /// Format: YYYY-MM-DD. Default: 31 days from now (the default-token-lifetime setting).
    #[arg(
        short = 'e',
        long,
        value_name = "YYYY-MM-DD",
        conflicts_with = "expires_in"
    )]
    pub expires_at: Option<String>,
    /// Lifetime from now instead of a date: a whole number and a unit, Y, M, w, d, h, m
    /// (minutes) or s, as in 180D or 2w.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal access token for yourself or another user (admin only).
    #[command(
        long_about = "Create a personal access token for yourself or another user (admin only).\n\n\
        The token is shown once. Its roles are the owner's roles unless --roles names a subset;\n\
        they never change afterwards.\n\n\
        Ex. osmo token set my-token --expires-at 2027-05-01\n\
        Ex. osmo token set my-token -e 2027-05-01 -d \"My token description\"\n\
        Ex. osmo token set my-token -r role1 -r role2\n\
        Ex. osmo token set service-token --user service-account@example.com --roles osmo-backend"
    )]
    Set {
        /// Name of the token.
        name: String,
        #[command(flatten)]
        expiry: ExpiryArgs,
        /// Description of the token.
        #[arg(short, long, default_value = "")]
        description: String,
        /// Create token for a specific user (admin only). By default, creates token for the current user.
        #[arg(short, long)]
        user: Option<String>,
        /// Role to assign to the token. Can be specified multiple times. If not specified,
        /// inherits all of the user's current roles.
        #[arg(short, long, num_args = 1.., value_name = "ROLE")]
        roles: Vec<String>,
        /// Print only the token and a newline (for TOKEN=$(osmo token set ci -q)).
        #[arg(short, long)]
        quiet: bool,
    },
    /// Delete an access token, or all of a user's, for yourself or another user (admin only).
    #[command(
        long_about = "Delete an access token, or all of a user's, for yourself or another user (admin only).\n\n\
        --all revokes every token of the user in one step, ending their sessions (for a person\n\
        who left, or a compromised CI account); it asks on a terminal, and needs --force without one.\n\n\
        Ex. osmo token delete my-token\n\
        Ex. osmo token delete old-token --user other-user@example.com\n\
        Ex. osmo token delete --all --user departed@example.com --force"
    )]
    Delete {
        /// Name of the token to delete.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Delete token for a specific user (admin only).
        #[arg(short, long)]
        user: Option<String>,
        /// Delete every token of the user.
        #[arg(long)]
        all: bool,
        /// With --all: do not ask for confirmation (a single NAME is never asked about).
        #[arg(short, long)]
        force: bool,
    },
    /// Delete expired tokens: yours, another user's, or everyone's (admin only).
    #[command(
        long_about = "Delete expired tokens: yours, another user's, or everyone's (admin only).\n\n\
        One transaction; each token is audited. --dry-run lists what would go and changes nothing.\n\n\
        Ex. osmo token prune --dry-run\n\
        Ex. osmo token prune --all"
    )]
    Prune {
        /// Prune a specific user's tokens (admin only).
        #[arg(short, long, conflicts_with = "all")]
        user: Option<String>,
        /// Prune every user's tokens (admin only).
        #[arg(long)]
        all: bool,
        /// Show what would be pruned; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Find osmo tokens leaked into files: exit 7 if any active one is found.
    #[command(
        long_about = "Find osmo tokens leaked into files: exit 7 if any active one is found.\n\n\
        Folders are searched recursively (symbolic links are not followed; .git folders, files\n\
        over 64 MiB and binary files are skipped; hidden and git-ignored files are searched).\n\
        With no PATH, or -, standard input is read. Every string shaped like a token with a\n\
        valid checksum is looked up: active, expired or unknown. The secret is never printed.\n\
        --revoke deletes every active token found that you may delete.\n\n\
        Ex. osmo token scan .\n\
        Ex. git diff --cached | osmo token scan\n\
        Ex. osmo token scan /srv/builds --revoke"
    )]
    Scan {
        /// Files or folders to search; - for standard input.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Delete every active token found that you may delete.
        #[arg(long)]
        revoke: bool,
    },
    /// List access tokens for yourself or another user (admin only).
    #[command(
        long_about = "List access tokens for yourself or another user (admin only).\n\n\
        Ex. osmo token list\n\
        Ex. osmo token list --user service-account@example.com\n\
        Ex. osmo token list --all --expiring-within 7d"
    )]
    List {
        /// List tokens for a specific user (admin only).
        #[arg(short, long, conflicts_with = "all")]
        user: Option<String>,
        /// List every user's tokens (admin only).
        #[arg(long)]
        all: bool,
        /// Only expired tokens.
        #[arg(long, conflicts_with_all = ["active", "expiring_within"])]
        expired: bool,
        /// Only active tokens.
        #[arg(long)]
        active: bool,
        /// Only active tokens that expire within this long: a whole number and a unit, as in 7d.
        #[arg(long, value_name = "DURATION")]
        expiring_within: Option<String>,
    },
    /// List all roles assigned to an access token.
    #[command(long_about = "List all roles assigned to an access token.\n\n\
        Ex. osmo token roles my-token")]
    Roles {
        /// Name of the token.
        name: String,
        /// A token of a specific user (admin only).
        #[arg(short, long)]
        user: Option<String>,
    },
    /// Check a token another program was given: exit 0 if it is valid.
    #[command(
        long_about = "Check a token another program was given: exit 0 if it is valid.\n\n\
        The token is read from --token-file, else $OSMO_TOKEN, else one line of standard input.\n\
        Exit 6 if it is malformed, unknown (never existed, deleted, rotated) or expired;\n\
        exit 3 if it lacks a --role.\n\n\
        Ex. osmo token verify --token-file /etc/osmo/monitoring-token --role osmo-user\n\
        Ex. echo \"$TOKEN\" | osmo token verify -t json"
    )]
    Verify {
        /// A file holding the token.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// A role the token must carry. Can be specified multiple times.
        #[arg(long, num_args = 1.., value_name = "ROLE")]
        role: Vec<String>,
    },
    /// Replace a token's secret, keeping its name, description and roles.
    #[command(
        long_about = "Replace a token's secret, keeping its name, description and roles.\n\n\
        The old token, and any session opened with it, stops working at once. Without an\n\
        expiry, the new token lives as long as the old one did (capped at max-token-lifetime).\n\n\
        Ex. osmo token rotate backend-token --user backend-operator --expires-at 2027-06-01"
    )]
    Rotate {
        /// Name of the token.
        name: String,
        /// Rotate a token of a specific user (admin only).
        #[arg(short, long)]
        user: Option<String>,
        #[command(flatten)]
        expiry: ExpiryArgs,
        /// Print only the new token and a newline.
        #[arg(short, long)]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApitokenCommand {
    /// Create an API token for yourself or another user (VAST's `apitoken create`).
    #[command(
        long_about = "Create an API token for yourself or another user (VAST's `apitoken create`).\n\n\
        The token is displayed once. Creating a token for another user needs the osmo-admin role.\n\n\
        Ex. osmo apitoken create\n\
        Ex. osmo apitoken create --name AWS_TOKEN --expiry-date 1D --owner adminjb"
    )]
    Create {
        /// Name of the token. Default: OWNER_api_token.
        #[arg(long, value_name = "TOKEN_NAME")]
        name: Option<String>,
        /// Lifetime from now: a whole number and a unit, Y (365 days), M (30 days), w, d,
        /// h, m (minutes) or s, as in 180D. Default: the default-token-lifetime setting.
        #[arg(long, value_name = "EXPIRATION_TIME")]
        expiry_date: Option<String>,
        /// Owner of the token. Default: you.
        #[arg(long)]
        owner: Option<String>,
        /// Print only the token and a newline.
        #[arg(short, long)]
        quiet: bool,
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
