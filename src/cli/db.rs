//! The `db` command line.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show where the database is and what it holds (admin only).
    #[command(
        after_help = "Ex. osmo db info -t json",
        after_long_help = "Ex. osmo db info -t json"
    )]
    Info,
    /// Check the file and osmo's rules: exit 0 if sound, 1 if not.
    #[command(
        long_about = "Check the file and osmo's rules: exit 0 if sound, 1 if not.\n\n\
        Runs SQLite's integrity and foreign-key checks, then osmo's own: every token has a role,\n\
        every token role is held by its owner, someone holds osmo-admin, the operator-user\n\
        exists. Works on a read-only database. Anyone may run it; only an admin sees names.",
        after_help = "Ex. osmo db check",
        after_long_help = "Ex. osmo db check"
    )]
    Check,
    /// Write a consistent copy of the database while it is in use (admin only).
    #[command(
        long_about = "Write a consistent copy of the database while it is in use (admin only).\n\n\
        The copy is a new file of mode 0600 that passes `osmo db check`.",
        after_help = "Ex. osmo db backup /backups/osmo-$(date +%F).db",
        after_long_help = "Ex. osmo db backup /backups/osmo-$(date +%F).db"
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
        `osmo db check`; it replaces the live contents in one step, and every session ends.",
        after_help = "Ex. osmo db restore /backups/osmo-2026-11-01.db --force",
        after_long_help = "Ex. osmo db restore /backups/osmo-2026-11-01.db --force"
    )]
    Restore {
        /// The backup to restore.
        path: PathBuf,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        force: bool,
    },
    /// Copy everything into a new, empty database of either kind (admin only).
    #[command(
        long_about = "Copy everything into a new, empty database of either kind (admin only).\n\n\
        Users, roles, grants, tokens with their hashes, settings and the audit log go across\n\
        with their ids and timestamps, so every token keeps working; sessions do not (users\n\
        log in again). DEST is an SQLite file that is missing or empty (made 0600), or a\n\
        postgres:// URL whose schema holds no tables. This database is not changed.",
        after_help = "Ex. osmo db copy --to postgresql://osmo@db.lab/osmo",
        after_long_help = "Ex. osmo db copy --to postgresql://osmo@db.lab/osmo\n\
        Ex. osmo --db postgresql://osmo@db.lab/osmo db copy --to ~/osmo-local.db"
    )]
    Copy {
        /// The new database: a file path, or a postgres:// URL.
        #[arg(long, value_name = "DEST")]
        to: PathBuf,
    },
}
