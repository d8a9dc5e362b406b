//! Reading typed arguments off a line, with a diagnostic that points at the
//! offending word when one is missing or malformed.

use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;
use crate::config::units::{parse_size, parse_time_ms};

/// Where a line sits: used to word messages ("in backend 'app'").
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// `global`, `defaults`, `frontend`, `backend`, `listen`, `userlist`.
    pub kind: &'a str,
    /// The section's name, when it has one.
    pub name: Option<&'a str>,
}

impl Place<'_> {
    /// `frontend 'http'`, `global section`, `defaults section`.
    pub fn describe(&self) -> String {
        match self.name {
            Some(name) => format!("{} '{}'", self.kind, name),
            None => format!("{} section", self.kind),
        }
    }
}

/// The full keyword of a line for messages: its first `words` words.
pub fn keyword_text(line: &LineDecl, words: usize) -> String {
    line.words
        .iter()
        .take(words)
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The argument at `index` (0 = first word after the keyword words), or an
/// error at the end of the line saying what was expected.
pub fn required<'l>(
    line: &'l LineDecl,
    index: usize,
    keyword: &str,
    what: &str,
) -> Result<&'l Word, Diagnostic> {
    line.words.get(index).ok_or_else(|| {
        let last = line.words.last().unwrap_or(line.keyword());
        let mut span = last.span;
        span.col += span.len;
        span.len = 1;
        Diagnostic::error(span, format!("'{keyword}' expects {what}"))
    })
}

/// A time argument (`5s`, `100` = ms) in milliseconds.
pub fn time(word: &Word, keyword: &str) -> Result<u64, Diagnostic> {
    parse_time_ms(&word.text).map_err(|e| {
        Diagnostic::error(
            word.span,
            format!("'{keyword}' expects a time, got '{}' ({e})", word.text),
        )
    })
}

/// A size argument (`200k` = 204800).
pub fn size(word: &Word, keyword: &str) -> Result<u64, Diagnostic> {
    parse_size(&word.text).map_err(|e| {
        Diagnostic::error(
            word.span,
            format!("'{keyword}' expects a size, got '{}' ({e})", word.text),
        )
    })
}

/// An unsigned integer argument no larger than `max`.
pub fn uint(word: &Word, keyword: &str, max: u64) -> Result<u64, Diagnostic> {
    match word.text.parse::<u64>() {
        Ok(v) if v <= max => Ok(v),
        Ok(_) => Err(Diagnostic::error(
            word.span,
            format!(
                "'{keyword}' expects an integer between 0 and {max}, got '{}'",
                word.text
            ),
        )),
        Err(_) => Err(Diagnostic::error(
            word.span,
            format!("'{keyword}' expects an integer, got '{}'", word.text),
        )),
    }
}

/// An error unless the line has no words past `count`.
pub fn no_more(line: &LineDecl, count: usize, keyword: &str) -> Result<(), Diagnostic> {
    match line.words.get(count) {
        None => Ok(()),
        Some(extra) => Err(Diagnostic::error(
            extra.span,
            format!("'{keyword}' takes no more arguments, got '{}'", extra.text),
        )),
    }
}
