//! From a request line to commands: splitting on `;`, words with backslash
//! escapes, and the command table (one row per command: usage, help text,
//! level, handler). `help`, the "unknown command" suggestions and dispatch
//! all read the same rows.
//!
//! The table lists every command of HAProxy 2.6's `help`, in its words, so
//! that `help` and the suggestions read exactly as HAProxy's do. Rows
//! without a handler are commands lbd does not run; they answer
//! [`messages::NOT_SUPPORTED`].

use std::sync::Arc;

mod table;

pub use table::ROWS;

use super::Ctx;
use super::messages;
use crate::compile::program::Level;
use crate::stick::{Filter, Table};

/// What one client connection remembers between commands.
#[derive(Debug, Clone)]
pub struct Session {
    pub level: Level,
    /// Interactive mode: answers end with `\n> ` and the connection stays.
    pub prompt: bool,
    /// Idle timeout of this connection (`set timeout cli`).
    pub timeout_ms: u64,
}

/// What a command produced.
pub enum Outcome {
    /// Text to send, then the terminator.
    Text(String),
    /// `show table <t> [filter]`: the header, then entry lines produced in
    /// bounded batches while writing. `skip_if_empty`: a key lookup that
    /// finds nothing prints nothing at all (not even the header).
    Dump {
        table: Arc<Table>,
        filter: Filter,
        skip_if_empty: bool,
    },
    /// `quit`: close now, print nothing.
    Quit,
}

impl Outcome {
    pub fn text(s: impl Into<String>) -> Outcome {
        Outcome::Text(s.into())
    }

    /// A silent success: only the terminator is sent.
    pub fn done() -> Outcome {
        Outcome::Text(String::new())
    }
}

pub type Handler = fn(&Ctx, &mut Session, &[String]) -> Outcome;

/// One command.
pub struct Row {
    /// Words and arguments as `help` shows them (`show table <table> ...`).
    pub usage: &'static str,
    pub help: &'static str,
    /// Lowest session level allowed to run it.
    pub level: Level,
    /// `None`: listed for compatibility, not run by lbd.
    pub handler: Option<Handler>,
}

impl Row {
    /// The command's own words: the usage up to its first argument.
    pub fn words(&self) -> impl Iterator<Item = &'static str> {
        self.usage
            .split_whitespace()
            .take_while(|w| !w.starts_with(['<', '[', '(', '{']))
    }

    /// `  <usage padded to 40>: <help>\n`.
    fn help_line(&self, out: &mut String) {
        out.push_str(&format!("  {:<40}: {}\n", self.usage, self.help));
    }

    /// How many leading words of `args` equal this row's words, if all of
    /// the row's words match.
    fn matches(&self, args: &[String]) -> bool {
        self.words()
            .enumerate()
            .all(|(n, w)| args.get(n).map(String::as_str) == Some(w))
    }

    fn is_always_shown(&self) -> bool {
        matches!(self.usage, "help [<command>]" | "prompt" | "quit")
    }
}

pub(super) const fn row(
    usage: &'static str,
    help: &'static str,
    level: Level,
    handler: Option<Handler>,
) -> Row {
    Row {
        usage,
        help,
        level,
        handler,
    }
}

/// Splits one request line into commands on unescaped `;`. Escapes are
/// kept for [`words`].
pub fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, b) in line.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b';' => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

/// Splits a command into words on runs of spaces and tabs; a backslash
/// makes the next character literal (`bob\ smith`, `\;`, `\\`).
pub fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    cur.push(next);
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Runs a whole request line at once and returns everything the client
/// would read, terminators included, and whether the connection stays
/// open. The socket does the same, writing as it goes.
pub fn answer_line(ctx: &Ctx, session: &mut Session, line: &str) -> (String, bool) {
    let mut out = String::new();
    for cmd in split_commands(line) {
        match run(ctx, session, &words(cmd)) {
            Outcome::Quit => return (out, false),
            Outcome::Text(text) => out.push_str(&text),
            Outcome::Dump {
                table,
                filter,
                skip_if_empty,
            } => {
                let now = crate::clock::now_ms();
                let mut dump = table.dump(filter, now);
                if !(skip_if_empty && dump.is_empty()) {
                    table.show_header(&mut out, now);
                    while dump.next_batch(&mut out, 256, now) {}
                }
            }
        }
        out.push_str(if session.prompt { "\n> " } else { "\n" });
    }
    (out, true)
}

/// Runs one command (already split into words) for `session`.
pub fn run(ctx: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    let Some(row) = ROWS.iter().find(|r| r.matches(args)) else {
        return Outcome::Text(usage(args, false));
    };
    if session.level < row.level {
        return Outcome::text(messages::PERMISSION_DENIED);
    }
    match row.handler {
        Some(handler) => handler(ctx, session, args),
        None => Outcome::text(messages::NOT_SUPPORTED),
    }
}

/// The list `help` prints (`is_help`), or the "unknown command" answer
/// with the commands closest to `args`.
pub fn usage(args: &[String], is_help: bool) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let listed = ROWS.iter().filter(|r| !r.is_always_shown());
    // How many leading words some command shares exactly with the input.
    let length = listed
        .clone()
        .map(|r| common_prefix(r, &args))
        .max()
        .unwrap_or(0);
    let mut out = String::from(if is_help {
        messages::HELP_HEADER
    } else if length == 0 && args.first().is_none_or(|a| a.is_empty()) {
        messages::UNKNOWN_EMPTY
    } else {
        messages::UNKNOWN_SIMILAR
    });
    // Candidates share those words; the rest is compared fuzzily.
    let prefixed: Vec<&Row> = listed
        .filter(|r| common_prefix(r, &args) >= length)
        .collect();
    let mut entries = match args.get(length) {
        Some(rest) if !rest.is_empty() => closest(&prefixed, &args[length..], length),
        _ => Vec::new(),
    };
    if entries.is_empty() {
        entries = prefixed;
    }
    entries.sort_by_key(|r| r.usage);
    for r in entries
        .into_iter()
        .chain(ROWS.iter().filter(|r| r.is_always_shown()))
    {
        r.help_line(&mut out);
    }
    out
}

/// Leading words of `args` equal to the row's words.
fn common_prefix(row: &Row, args: &[&str]) -> usize {
    row.words().zip(args).take_while(|(w, a)| w == *a).count()
}

/// At most 5 rows whose remaining words look most like the remaining input
/// (bigram fingerprints, as HAProxy's CLI does), dropping unlikely ones.
fn closest<'r>(rows: &[&'r Row], rest: &[&str], skip: usize) -> Vec<&'r Row> {
    const MAX: usize = 5;
    let mut best: Vec<(usize, &Row)> = Vec::with_capacity(MAX + 1);
    let mut input = Fingerprint::default();
    let mut input_len = 0;
    for w in rest {
        input.add(w);
        input_len += w.len();
    }
    for r in rows {
        let mut fp = Fingerprint::default();
        let mut total = input_len;
        for w in r.words().skip(skip) {
            fp.add(w);
            total += w.len();
        }
        let dist = input.distance(&fp);
        let worst = best.get(MAX - 1).map_or(usize::MAX, |b| b.0);
        if dist < 5 * total / 2 && dist < worst {
            let at = best.partition_point(|b| b.0 <= dist);
            best.insert(at, (dist, r));
            best.truncate(MAX);
        }
    }
    let Some(first) = best.first().map(|b| b.0) else {
        return Vec::new();
    };
    best.into_iter()
        .take_while(|b| b.0 <= 5 * first / 2)
        .map(|b| b.1)
        .collect()
}

/// Counts of letter-class bigrams of words (with begin and end marks).
struct Fingerprint([u8; 1024]);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint([0; 1024])
    }
}

impl Fingerprint {
    fn add(&mut self, word: &str) {
        // Classes: 1..=26 letters, 27 digits, 28 anything else and the
        // word's edges. Row 0 marks which classes occur at all.
        const EDGE: usize = 28;
        let mut from = EDGE;
        for b in word.bytes() {
            let to = match b.to_ascii_lowercase() {
                c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
                b'0'..=b'9' => 27,
                _ => EDGE,
            };
            self.0[to] = 1;
            self.0[32 * from + to] = self.0[32 * from + to].wrapping_add(1);
            from = to;
        }
        self.0[32 * from + EDGE] = self.0[32 * from + EDGE].wrapping_add(1);
    }

    fn distance(&self, other: &Fingerprint) -> usize {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum()
    }
}

#[cfg(test)]
mod tests;
