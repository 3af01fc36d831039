//! Output that grows with the data, written as it comes (DESIGN §8): a JSON array element
//! by element, and a text table whose column widths come from a bounded look-ahead, so the
//! first row shows at once and memory stays flat however many rows follow.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde::Serialize;

use super::Format;
use crate::error::{Error, Result};
use crate::validate;

/// Rows a table reads before it fixes its column widths. A listing of up to this many rows
/// looks exactly as if the whole table had been measured; past it, a longer cell pushes
/// its row's later columns right instead of widening every row. A hundred rows is about
/// a millisecond of reading, so the first line still shows at once (DESIGN §8: `| head -1`
/// within 10 ms, process start included).
pub const LOOK_AHEAD: usize = 100;

/// Standard output, locked and buffered. A closed pipe (`| head -1`) ends the stream
/// quietly: writes after it are dropped and `closed` says to stop producing rows.
pub struct Out {
    writer: BufWriter<StdoutLock<'static>>,
    escape: bool,
    closed: bool,
    /// Nothing has gone out yet: the first text is flushed at once, so a reader sees the
    /// first row before the buffer fills.
    first: bool,
}

pub use crate::store::Flow;

impl Out {
    pub fn new(format: Format) -> Out {
        Out {
            // Small enough that a closed pipe is noticed within a few dozen rows.
            writer: BufWriter::with_capacity(8 << 10, io::stdout().lock()),
            // Text from outside never reaches a terminal raw (JSON escapes its own).
            escape: format == Format::Text,
            closed: false,
            first: true,
        }
    }

    pub fn write(&mut self, text: &str) -> Result<Flow> {
        if self.closed {
            return Ok(Flow::Break(()));
        }
        let mut written = if self.escape {
            self.writer
                .write_all(validate::escape_hidden(text, true).as_bytes())
        } else {
            self.writer.write_all(text.as_bytes())
        };
        if std::mem::take(&mut self.first) {
            written = written.and_then(|()| self.writer.flush());
        }
        self.check(written)
    }

    fn check(&mut self, done: io::Result<()>) -> Result<Flow> {
        match done {
            Ok(()) => Ok(Flow::Continue(())),
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(Flow::Break(()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Writes `text` where no row producer needs telling whether to go on.
    pub fn put(&mut self, text: &str) -> Result<()> {
        self.write(text).map(|_| ())
    }

    pub fn finish(mut self) -> Result<()> {
        if !self.closed {
            let flushed = self.writer.flush();
            let _ = self.check(flushed)?;
        }
        Ok(())
    }
}

/// A JSON array written element by element, byte for byte as `serde_json` pretty-prints a
/// whole `Vec` at `depth` levels of nesting.
pub struct JsonArray {
    depth: usize,
    empty: bool,
}

impl JsonArray {
    pub fn new(depth: usize) -> JsonArray {
        JsonArray { depth, empty: true }
    }

    pub fn push<T: Serialize>(&mut self, out: &mut Out, item: &T) -> Result<Flow> {
        let text = serde_json::to_string_pretty(item)
            .map_err(|err| Error::Internal(format!("cannot write JSON: {err}")))?;
        // Pretty JSON never holds a raw newline inside a string, so lines are lines.
        let indent = "  ".repeat(self.depth + 1);
        let mut chunk = String::with_capacity(text.len() + 64);
        chunk.push_str(if self.empty { "[\n" } else { ",\n" });
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                chunk.push('\n');
            }
            chunk.push_str(&indent);
            chunk.push_str(line);
        }
        self.empty = false;
        out.write(&chunk)
    }

    pub fn finish(self, out: &mut Out) -> Result<()> {
        if self.empty {
            out.put("[]")
        } else {
            out.put(&format!("\n{}]", "  ".repeat(self.depth)))
        }
    }
}

/// A whole JSON document that is one array of what `list` hands over, streamed.
pub fn json_list<T: Serialize>(
    out: &mut Out,
    list: impl FnOnce(&mut dyn FnMut(T) -> Result<Flow>) -> Result<()>,
) -> Result<()> {
    let mut array = JsonArray::new(0);
    list(&mut |item| array.push(out, &item))?;
    array.finish(out)?;
    out.put("\n")
}

/// An OSMO-style table (left-aligned header, a rule of `=`, three spaces between columns,
/// no borders) written row by row.
pub struct Table<const N: usize> {
    headers: [&'static str; N],
    waiting: Vec<[String; N]>,
    widths: Option<[usize; N]>,
    /// The terminal's width, when the table goes to one: long cells are cut to fit.
    limit: Option<usize>,
}

impl<const N: usize> Table<N> {
    /// A table for stdout: fitted to the terminal's width when stdout is a terminal,
    /// never cut when it is a pipe or a file (DESIGN §6).
    pub fn new(headers: [&'static str; N]) -> Table<N> {
        Table::fitted(headers, terminal_width())
    }

    /// A table cut to fit `limit` columns, or never cut.
    pub fn fitted(headers: [&'static str; N], limit: Option<usize>) -> Table<N> {
        Table {
            headers,
            waiting: Vec::new(),
            widths: None,
            limit,
        }
    }

    /// Adds a row: held until the widths are known, then written.
    pub fn push(&mut self, out: &mut Out, row: [String; N]) -> Result<Flow> {
        let row = escaped(row);
        match self.widths {
            Some(widths) => out.write(&line(&widths, &self.cut(row))),
            None => {
                self.waiting.push(row);
                if self.waiting.len() < LOOK_AHEAD {
                    Ok(Flow::Continue(()))
                } else {
                    self.flush(out)
                }
            }
        }
    }

    /// Fixes the widths from the header and the rows held so far, and writes them.
    fn flush(&mut self, out: &mut Out) -> Result<Flow> {
        let text = self.settle();
        out.write(&text)
    }

    /// A whole table at once, measured on all its rows (small listings).
    pub fn render(headers: [&'static str; N], rows: Vec<[String; N]>) -> String {
        Table::render_fitted(headers, rows, terminal_width())
    }

    /// `render`, cut to fit `limit` columns, or never cut.
    pub fn render_fitted(
        headers: [&'static str; N],
        rows: Vec<[String; N]>,
        limit: Option<usize>,
    ) -> String {
        let mut table = Table::fitted(headers, limit);
        for row in rows {
            table.waiting.push(escaped(row));
        }
        table.settle()
    }

    /// Fixes the widths from the header and the rows held so far; their text.
    fn settle(&mut self) -> String {
        let mut widths = self.headers.map(width);
        for row in &self.waiting {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        if let Some(limit) = self.limit {
            fit(&mut widths, &self.headers, limit);
        }
        self.widths = Some(widths);
        let mut text = line(&widths, &self.cut(self.headers.map(str::to_string)));
        let total = widths.iter().sum::<usize>() + GAP * N.saturating_sub(1);
        text.push_str(&"=".repeat(total));
        text.push('\n');
        for row in std::mem::take(&mut self.waiting) {
            text.push_str(&line(&widths, &self.cut(row)));
        }
        text
    }

    /// On a terminal, each cell cut to its column's width with `…`.
    fn cut(&self, row: [String; N]) -> [String; N] {
        match (self.limit, self.widths) {
            (Some(_), Some(widths)) => {
                let mut i = 0;
                row.map(|cell| {
                    i += 1;
                    cut(cell, widths[i - 1])
                })
            }
            _ => row,
        }
    }

    pub fn finish(mut self, out: &mut Out) -> Result<()> {
        if self.widths.is_none() {
            let _ = self.flush(out)?;
        }
        Ok(())
    }
}

const GAP: usize = 3;

/// Columns are not cut below their header, nor below this.
const MIN_COLUMN: usize = 8;

/// The width of the terminal stdout is, if it is one: `$COLUMNS`, else the terminal's.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    columns.filter(|c| *c > 0).or_else(|| {
        let mut size = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which outlives the call.
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
    })
}

/// Narrows `widths` until the table fits `limit`: the Description column first, then
/// the widest, none below its header or `MIN_COLUMN`.
fn fit<const N: usize>(widths: &mut [usize; N], headers: &[&str; N], limit: usize) {
    let floor = |i: usize| width(headers[i]).max(MIN_COLUMN).min(widths[i]);
    let floors: Vec<usize> = (0..N).map(floor).collect();
    let total = |widths: &[usize; N]| widths.iter().sum::<usize>() + GAP * N.saturating_sub(1);
    if let Some(d) = headers.iter().position(|h| *h == "Description") {
        let excess = total(widths).saturating_sub(limit);
        widths[d] -= excess.min(widths[d] - floors[d]);
    }
    while total(widths) > limit {
        let widest = (0..N)
            .filter(|&i| widths[i] > floors[i])
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
}

/// `text` cut to `max` columns, its last one `…`, when it is wider.
fn cut(text: String, max: usize) -> String {
    if width(&text) <= max {
        return text;
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        kept.push(c);
        used += w;
    }
    kept.push('…');
    kept
}

/// A cell is one line: a newline from old or outside data must not forge a row.
fn escaped<const N: usize>(row: [String; N]) -> [String; N] {
    row.map(|cell| validate::escape_hidden_owned(cell, false))
}

fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// One row: every cell but the last padded to its column's width and the gap; trailing
/// spaces trimmed.
fn line<const N: usize>(widths: &[usize; N], cells: &[String; N]) -> String {
    let mut text = String::new();
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        text.push_str(cell);
        if i + 1 < N {
            let pad = w.saturating_sub(width(cell)) + GAP;
            text.extend(std::iter::repeat_n(' ', pad));
        }
    }
    let kept = text.trim_end().len();
    text.truncate(kept);
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "../../tests/reference/tabled.rs"]
mod reference;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::reference::tabled_table;
    use super::*;

    /// The earlier renderer was handed cells already escaped.
    fn reference<const N: usize>(headers: [&str; N], rows: &[[String; N]]) -> String {
        let escaped = rows
            .iter()
            .map(|row| {
                row.clone()
                    .map(|cell| validate::escape_hidden_owned(cell, false))
            })
            .collect();
        tabled_table(headers, escaped)
    }

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9 _.-]{0,12}",
            "[éü日本語ab]{0,6}",
            Just(String::new()),
            Just("two\nlines".to_string()),
            Just("esc\u{1b}[2J".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn tables_are_byte_identical_to_the_earlier_renderer(
            rows in proptest::collection::vec([cell(), cell(), cell()], 0..20)
        ) {
            let headers = ["Name", "Description", "Roles"];
            prop_assert_eq!(
                Table::render_fitted(headers, rows.clone(), None),
                reference(headers, &rows)
            );
        }
    }
}
