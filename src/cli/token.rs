//! The `token` and `apitoken` command lines.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::completion;

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
        they never change afterwards.",
        after_help = "Ex. osmo token set my-token --expires-at 2027-05-01",
        after_long_help = "Ex. osmo token set my-token --expires-at 2027-05-01\n\
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
        #[arg(short, long, add = ArgValueCompleter::new(completion::user_ids))]
        user: Option<String>,
        /// Role to assign to the token. Can be specified multiple times. If not specified,
        /// inherits all of the user's current roles.
        #[arg(short, long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        roles: Vec<String>,
        /// Print only the token and a newline (for TOKEN=$(osmo token set ci -q)).
        #[arg(short, long)]
        quiet: bool,
    },
    /// Delete an access token, or all of a user's, for yourself or another user (admin only).
    #[command(
        long_about = "Delete an access token, or all of a user's, for yourself or another user (admin only).\n\n\
        --all revokes every token of the user in one step, ending their sessions (for a person\n\
        who left, or a compromised CI account); it asks on a terminal, and needs --force without one.",
        after_help = "Ex. osmo token delete my-token",
        after_long_help = "Ex. osmo token delete my-token\n\
        Ex. osmo token delete old-token --user other-user@example.com\n\
        Ex. osmo token delete --all --user departed@example.com --force"
    )]
    Delete {
        /// Name of the token to delete.
        #[arg(required_unless_present = "all", conflicts_with = "all", add = ArgValueCompleter::new(completion::token_names))]
        name: Option<String>,
        /// Delete token for a specific user (admin only).
        #[arg(short, long, add = ArgValueCompleter::new(completion::user_ids))]
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
        One transaction; each token is audited. --dry-run lists what would go and changes nothing.",
        after_help = "Ex. osmo token prune --dry-run",
        after_long_help = "Ex. osmo token prune --dry-run\n\
        Ex. osmo token prune --all"
    )]
    Prune {
        /// Prune a specific user's tokens (admin only).
        #[arg(short, long, conflicts_with = "all", add = ArgValueCompleter::new(completion::user_ids))]
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
        --revoke deletes every active token found that you may delete.",
        after_help = "Ex. osmo token scan .",
        after_long_help = "Ex. osmo token scan .\n\
        Ex. git diff --cached | osmo token scan\n\
        Ex. osmo token scan /srv/builds --revoke"
    )]
    Scan {
        /// Files or folders to search; - for standard input.
        #[arg(value_name = "PATH", value_hint = clap::ValueHint::AnyPath)]
        paths: Vec<PathBuf>,
        /// Delete every active token found that you may delete.
        #[arg(long)]
        revoke: bool,
    },
    /// List access tokens for yourself or another user (admin only).
    #[command(
        after_help = "Ex. osmo token list",
        after_long_help = "Ex. osmo token list\n\
        Ex. osmo token list --user service-account@example.com\n\
        Ex. osmo token list --all --expiring-within 7d"
    )]
    List {
        /// List tokens for a specific user (admin only).
        #[arg(short, long, conflicts_with = "all", add = ArgValueCompleter::new(completion::user_ids))]
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
    #[command(
        after_help = "Ex. osmo token roles my-token",
        after_long_help = "Ex. osmo token roles my-token"
    )]
    Roles {
        /// Name of the token.
        #[arg(add = ArgValueCompleter::new(completion::token_names))]
        name: String,
        /// A token of a specific user (admin only).
        #[arg(short, long, add = ArgValueCompleter::new(completion::user_ids))]
        user: Option<String>,
    },
    /// Check a token another program was given: exit 0 if it is valid.
    #[command(
        long_about = "Check a token another program was given: exit 0 if it is valid.\n\n\
        The token is read from --token-file, else $OSMO_TOKEN, else one line of standard input.\n\
        Exit 6 if it is malformed, unknown (never existed, deleted, rotated) or expired;\n\
        exit 3 if it lacks a --role.",
        after_help = "Ex. osmo token verify --token-file /etc/osmo/monitoring-token --role osmo-user",
        after_long_help = "Ex. osmo token verify --token-file /etc/osmo/monitoring-token --role osmo-user\n\
        Ex. echo \"$TOKEN\" | osmo token verify -t json"
    )]
    Verify {
        /// A file holding the token.
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        token_file: Option<PathBuf>,
        /// A role the token must carry. Can be specified multiple times.
        #[arg(long, num_args = 1.., value_name = "ROLE", add = ArgValueCompleter::new(completion::role_names))]
        role: Vec<String>,
    },
    /// Replace a token's secret, keeping its name, description and roles.
    #[command(
        long_about = "Replace a token's secret, keeping its name, description and roles.\n\n\
        The old token, and any session opened with it, stops working at once. Without an\n\
        expiry, the new token lives as long as the old one did (capped at max-token-lifetime).",
        after_help = "Ex. osmo token rotate backend-token --user backend-operator --expires-at 2027-06-01",
        after_long_help = "Ex. osmo token rotate backend-token --user backend-operator --expires-at 2027-06-01"
    )]
    Rotate {
        /// Name of the token.
        #[arg(add = ArgValueCompleter::new(completion::token_names))]
        name: String,
        /// Rotate a token of a specific user (admin only).
        #[arg(short, long, add = ArgValueCompleter::new(completion::user_ids))]
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
        The token is displayed once. Creating a token for another user needs the osmo-admin role.",
        after_help = "Ex. osmo apitoken create",
        after_long_help = "Ex. osmo apitoken create\n\
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
        #[arg(long, add = ArgValueCompleter::new(completion::user_ids))]
        owner: Option<String>,
        /// Print only the token and a newline.
        #[arg(short, long)]
        quiet: bool,
    },
}
