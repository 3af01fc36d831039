//! The tables as tabled drew them before the streaming writer: the reference the
//! streaming tables are held to, byte for byte (a unit test in `src/output/stream.rs`
//! and `tests/cli/listing.rs` both include this file).

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::style::HorizontalLine;
use tabled::settings::{Padding, Style};

/// `headers` and `rows` as the earlier renderer drew them; cells are taken as they are.
pub fn tabled_table<const N: usize>(headers: [&str; N], rows: Vec<[String; N]>) -> String {
    let mut builder = Builder::with_capacity(rows.len() + 1, N);
    builder.push_record(headers);
    for row in rows {
        builder.push_record(row);
    }
    let mut table = builder.build();
    table
        .with(Style::empty().horizontals([(1, HorizontalLine::new('='))]))
        .with(Padding::new(0, 3, 0, 0))
        .modify(Columns::last(), Padding::zero());
    let mut out = String::new();
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
