//! `osmo man`: the manual page, from the same clap definitions as `--help` (DESIGN §5):
//! every command with its flags and examples, then ENVIRONMENT, FILES and EXIT STATUS.

use clap::{Arg, Command};
use clap_mangen::Man;
use roff::{Roff, bold, italic, roman};

use super::{ENVIRONMENT, EXIT_STATUS, FILES};

/// The page in roff, for `man -l -`.
pub fn page(cmd: Command) -> std::io::Result<Vec<u8>> {
    let mut cmd = cmd;
    cmd.build();
    let man = Man::new(cmd.clone()).manual("osmo-local");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        command(&mut roff, sub);
    }
    section(&mut roff, "ENVIRONMENT", ENVIRONMENT);
    section(&mut roff, "FILES", FILES);
    section(&mut roff, "EXIT STATUS", EXIT_STATUS);
    roff.to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// One command: its usage, what it does, its own flags and its examples; or, for a
/// group such as `token`, each of its commands.
fn command(roff: &mut Roff, cmd: &Command) {
    if cmd.has_subcommands() {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            command(roff, sub);
        }
        return;
    }
    let name = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string();
    roff.control("SS", [name.as_str()]);
    let usage = cmd.clone().render_usage().to_string();
    roff.text([bold(usage.trim_start_matches("Usage: ").to_string())]);
    let about = cmd.get_long_about().or(cmd.get_about());
    if let Some(about) = about {
        paragraphs(roff, &about.to_string());
    }
    for arg in cmd.get_arguments().filter(|a| own(a)) {
        roff.control("TP", []);
        roff.text(flag(arg));
        let help = arg.get_long_help().or(arg.get_help());
        roff.text([roman(help.map(ToString::to_string).unwrap_or_default())]);
    }
    if let Some(examples) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        roff.control("PP", []);
        for line in examples.to_string().lines() {
            roff.text([roman(line.to_string())]);
            roff.control("br", []);
        }
    }
}

/// Flags shown under every command: those of the command itself, not the global ones
/// (in OPTIONS) nor help and version.
fn own(arg: &Arg) -> bool {
    !arg.is_global_set()
        && !arg.is_hide_set()
        && !matches!(arg.get_id().as_str(), "help" | "version")
}

/// `-u, --user USER` or `<NAME>`.
fn flag(arg: &Arg) -> Vec<roff::Inline> {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(ToString::to_string)
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let mut inlines = Vec::new();
    if arg.is_positional() {
        inlines.push(italic(value));
        return inlines;
    }
    if let Some(short) = arg.get_short() {
        inlines.push(bold(format!("-{short}")));
        inlines.push(roman(", "));
    }
    if let Some(long) = arg.get_long() {
        inlines.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        inlines.push(roman(" "));
        inlines.push(italic(value));
    }
    inlines
}

fn paragraphs(roff: &mut Roff, text: &str) {
    for paragraph in text.split("\n\n") {
        roff.control("PP", []);
        roff.text([roman(paragraph.replace('\n', " "))]);
    }
}

fn section(roff: &mut Roff, title: &str, entries: &[(&str, &str)]) {
    roff.control("SH", [title]);
    for (name, meaning) in entries {
        roff.control("TP", []);
        roff.text([bold(*name)]);
        roff.text([roman(*meaning)]);
    }
}
