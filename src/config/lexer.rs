//! Splits one configuration line into words, the way HAProxy 2.6 does.
//!
//! The rules follow HAProxy's line parser (`parse_line()` in `src/tools.c`),
//! checked against `haproxy -c` where the manual and the code differ:
//! - spaces, tabs, `\v` and `\f` separate words; `#` starts a comment;
//! - `'...'` quotes everything, `"..."` keeps `\` escapes and `$VAR`;
//! - outside single quotes `\ `, `\\`, `\#`, `\'`, `\"`, `\t`, `\n`, `\r` and
//!   `\xNN` are escapes; `\$` only inside double quotes; any other `\c`
//!   (`\<TAB>` included, despite the manual) keeps its backslash;
//! - `$NAME`, `${NAME}`, `${NAME-default}` and `${NAME[*]}` expand only
//!   inside double quotes; an unset variable expands to nothing; `[*]` splits
//!   the value on spaces into several words;
//! - a carriage return ends the line, even inside quotes;
//! - at most 64 words per line.

use super::ast::Word;
use super::diag::Diagnostic;
use super::source::{FileId, Span};

/// HAProxy's `MAX_LINE_ARGS`: a line with more words is an error.
pub const MAX_WORDS: usize = 64;

/// Where the line being split sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePos {
    pub file: FileId,
    /// 1-based line number.
    pub line: u32,
}

/// The words of a line, and a warning when a carriage return cut it short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitLine {
    pub words: Vec<Word>,
    /// Set when text follows a carriage return: HAProxy ignores it silently
    /// (a file with old Mac line endings reads as one line), we say so.
    pub warning: Option<Diagnostic>,
}

/// Splits `line` (without its `\n`) into words, looking up environment
/// variables with `env`. The first problem found aborts the line, as in
/// HAProxy, and is returned as an error diagnostic pointing at its column.
pub fn split_line(
    line: &str,
    pos: LinePos,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SplitLine, Diagnostic> {
    let mut lexer = Lexer::new(line, pos, env);
    lexer.run()?;
    let warning = lexer.text_after_cr();
    if lexer.words.len() > MAX_WORDS {
        let span = lexer.words[MAX_WORDS].span;
        return Err(Diagnostic::error(
            span,
            format!("too many words, a line may have at most {MAX_WORDS}"),
        ));
    }
    Ok(SplitLine {
        words: lexer.words,
        warning,
    })
}

/// Splits `line` with the process environment.
pub fn split_line_env(line: &str, pos: LinePos) -> Result<SplitLine, Diagnostic> {
    split_line(line, pos, &|name| std::env::var(name).ok())
}

/// True for the bytes HAProxy's `isspace()` treats as word separators on a
/// line (`\n` and `\r` never reach here as separators).
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

/// A source word being built: where it starts and the words it expands to
/// (more than one only through `${VAR[*]}`).
struct Pending {
    start: usize,
    parts: Vec<Vec<u8>>,
}

struct Lexer<'a> {
    bytes: &'a [u8],
    /// Character column (0-based) of every byte offset, plus one past the end.
    cols: Vec<u32>,
    pos: LinePos,
    env: &'a dyn Fn(&str) -> Option<String>,
    at: usize,
    word: Option<Pending>,
    words: Vec<Word>,
}

/// Initial capacity of a word's buffer: most words are shorter.
const WORD_CAPACITY: usize = 24;

impl<'a> Lexer<'a> {
    fn new(line: &'a str, pos: LinePos, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        let bytes = line.as_bytes();
        // An ASCII line's columns are its byte offsets: no table needed.
        let cols = if line.is_ascii() {
            Vec::new()
        } else {
            let mut cols = Vec::with_capacity(bytes.len() + 1);
            let mut col = 0u32;
            for &b in bytes {
                // A continuation byte of a UTF-8 sequence shares the column
                // of the byte that leads its character.
                if b & 0xC0 == 0x80 {
                    cols.push(col.saturating_sub(1));
                } else {
                    cols.push(col);
                    col = col.saturating_add(1);
                }
            }
            cols.push(col);
            cols
        };
        Lexer {
            bytes,
            cols,
            pos,
            env,
            at: 0,
            word: None,
            // Most lines have a few words: one allocation, not several.
            words: Vec::with_capacity(8),
        }
    }

    /// The span from byte `start` to byte `end` (exclusive).
    fn span(&self, start: usize, end: usize) -> Span {
        let col = self.col(start);
        let end_col = self.col(end);
        Span {
            file: self.pos.file,
            line: self.pos.line,
            col: col.saturating_add(1),
            len: end_col.saturating_sub(col).max(1),
        }
    }

    /// The 0-based column (in characters) of byte offset `at`.
    fn col(&self, at: usize) -> u32 {
        let at = at.min(self.bytes.len());
        match self.cols.get(at) {
            Some(&c) => c,
            None => u32::try_from(at).unwrap_or(u32::MAX),
        }
    }

    /// A warning for a non-blank text after the carriage return where the
    /// lexer stopped, if it stopped at one.
    fn text_after_cr(&self) -> Option<Diagnostic> {
        if self.bytes.get(self.at) != Some(&b'\r') {
            return None;
        }
        let rest = self.bytes.get(self.at + 1..).unwrap_or_default();
        let skip = rest.iter().position(|&b| !is_blank(b) && b != b'\r')?;
        let start = self.at + 1 + skip;
        Some(Diagnostic::warning(
            self.span(start, start + 1),
            "text after a carriage return is ignored",
        ))
    }

    fn fail(&self, start: usize, end: usize, message: &str) -> Diagnostic {
        Diagnostic::error(self.span(start, end), message)
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.at + offset).copied()
    }

    /// Appends a byte to the current word, starting one if needed.
    fn emit(&mut self, b: u8) {
        if let Some(part) = self.current().last_mut() {
            part.push(b);
        }
    }

    fn current(&mut self) -> &mut Vec<Vec<u8>> {
        let start = self.at;
        &mut self
            .word
            .get_or_insert_with(|| Pending {
                start,
                // Room for a typical word, so it is not grown byte by byte.
                parts: vec![Vec::with_capacity(WORD_CAPACITY)],
            })
            .parts
    }

    fn finish_word(&mut self) -> Result<(), Diagnostic> {
        // (`String::from_utf8` keeps the buffer: no copy.)
        let Some(pending) = self.word.take() else {
            return Ok(());
        };
        let span = self.span(pending.start, self.at);
        for part in pending.parts {
            let text = String::from_utf8(part)
                .map_err(|_| Diagnostic::error(span, "escape sequences produce invalid UTF-8"))?;
            self.words.push(Word { text, span });
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Diagnostic> {
        let mut dquote: Option<usize> = None;
        while let Some(b) = self.peek(0) {
            match b {
                b'\r' => break,
                0 => return Err(self.fail(self.at, self.at + 1, "stray NUL character")),
                b'#' if dquote.is_none() => break,
                b'"' => {
                    self.current();
                    dquote = if dquote.is_some() {
                        None
                    } else {
                        Some(self.at)
                    };
                    self.at += 1;
                }
                b'\'' if dquote.is_none() => self.single_quoted()?,
                b'\\' => self.escape(dquote.is_some())?,
                b'$' if dquote.is_some() => self.variable()?,
                b if is_blank(b) && dquote.is_none() => {
                    self.finish_word()?;
                    self.at += 1;
                }
                b => {
                    self.emit(b);
                    self.at += 1;
                }
            }
        }
        if let Some(open) = dquote {
            return Err(self.fail(open, open + 1, "unmatched quote"));
        }
        self.finish_word()
    }

    /// `'...'`: everything up to the next single quote is literal.
    fn single_quoted(&mut self) -> Result<(), Diagnostic> {
        let open = self.at;
        self.current();
        self.at += 1;
        while let Some(b) = self.peek(0) {
            match b {
                b'\'' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\r' => break,
                0 => return Err(self.fail(self.at, self.at + 1, "stray NUL character")),
                b => {
                    self.emit(b);
                    self.at += 1;
                }
            }
        }
        Err(self.fail(open, open + 1, "unmatched quote"))
    }

    /// A backslash outside single quotes.
    fn escape(&mut self, in_dquote: bool) -> Result<(), Diagnostic> {
        let (byte, consumed) = match self.peek(1) {
            Some(c @ (b' ' | b'\\' | b'#' | b'\'' | b'"')) => (c, 2),
            Some(b't') => (b'\t', 2),
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b'$') if in_dquote => (b'$', 2),
            Some(b'x') => (self.hex_escape()?, 4),
            _ => (b'\\', 1),
        };
        self.emit(byte);
        self.at += consumed;
        Ok(())
    }

    fn hex_escape(&self) -> Result<u8, Diagnostic> {
        let digit = |off| self.peek(off).and_then(|b: u8| (b as char).to_digit(16));
        match (digit(2), digit(3)) {
            // Two hex digits are at most 0xff, so the cast keeps every bit.
            (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
            _ => {
                let end = (self.at + 4).min(self.bytes.len());
                Err(self.fail(self.at, end, "truncated or invalid hexadecimal sequence"))
            }
        }
    }
}

mod env;

#[cfg(test)]
mod tests;
