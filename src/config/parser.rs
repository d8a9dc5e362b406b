//! One file's text → its sections. A bad line is reported and skipped; the
//! next line is parsed as if nothing happened, so every error of a file is
//! reported, in source order. Conditional blocks (`.if` ... `.endif`) are
//! applied here, so the sections only hold the lines of chosen branches.

use nom::bytes::complete::{tag, take_till};
use nom::combinator::opt;
use nom::sequence::terminated;
use nom::{IResult, Parser};

use super::ast::{LineDecl, SectionDecl, SectionKind, Word};
use super::blocks::Blocks;
use super::diag::Diagnostic;
use super::lexer::{LinePos, SplitLine, split_line};
use super::source::{FileId, Span};

/// What parsing one file produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub sections: Vec<SectionDecl>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole file. Each file starts outside any section, as HAProxy
/// requires ("each file must start on a section boundary").
pub fn parse_file(
    file: FileId,
    bytes: &[u8],
    base_env: &dyn Fn(&str) -> Option<String>,
) -> ParsedFile {
    // `setenv` and friends in `global` change the variables that later lines
    // of the file see, as HAProxy applies them while it reads the file.
    let overlay = std::cell::RefCell::new(EnvOverlay::default());
    let env = &|name: &str| overlay.borrow().lookup(name, base_env);
    let mut out = ParsedFile::default();
    let mut rest = bytes;
    let mut line_no = 0u32;
    let mut blocks = Blocks::default();
    while !rest.is_empty() {
        let Ok((next, line)) = next_line(rest) else {
            // `take_till` and `opt` cannot fail on complete input; stop
            // rather than loop if that ever changes.
            break;
        };
        debug_assert!(next.len() < rest.len(), "every line consumes input");
        rest = next;
        line_no = line_no.saturating_add(1);
        let pos = LinePos {
            file,
            line: line_no,
        };
        match line_words(line, pos, env) {
            Ok(split) => {
                let directive = blocks.directive(&split.words, env, &mut out.diagnostics);
                if !directive && blocks.active() {
                    add_line(&mut out, pos, split.words);
                    overlay.borrow_mut().apply(&out, base_env);
                }
                out.diagnostics.extend(split.warning);
            }
            Err(diagnostic) => out.diagnostics.push(diagnostic),
        }
    }
    blocks.finish(&mut out.diagnostics);
    out
}

/// One physical line, without its `\n`. A final line without `\n` counts.
fn next_line(input: &[u8]) -> IResult<&[u8], &[u8]> {
    terminated(take_till(|b| b == b'\n'), opt(tag(&b"\n"[..]))).parse(input)
}

/// The words of one line; a line that is not UTF-8 is an error at the first
/// bad byte.
fn line_words(
    line: &[u8],
    pos: LinePos,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SplitLine, Diagnostic> {
    let text = std::str::from_utf8(line).map_err(|e| {
        let valid = String::from_utf8_lossy(&line[..e.valid_up_to()]);
        let col = u32::try_from(valid.chars().count()).unwrap_or(u32::MAX);
        let span = Span {
            file: pos.file,
            line: pos.line,
            col: col.saturating_add(1),
            len: 1,
        };
        Diagnostic::error(span, "invalid UTF-8 byte")
    })?;
    split_line(text, pos, env)
}

/// Files a line's words under the current section, or opens a new one.
fn add_line(out: &mut ParsedFile, pos: LinePos, words: Vec<Word>) {
    // HAProxy treats a line whose first word is empty (`""`) as blank.
    if words.first().is_none_or(|w| w.text.is_empty()) {
        return;
    }
    if let Some(kind) = SectionKind::from_keyword(&words[0].text) {
        out.sections.push(section_header(kind, words));
        return;
    }
    let Some(section) = out.sections.last_mut() else {
        let keyword = &words[0];
        out.diagnostics.push(Diagnostic::error(
            keyword.span,
            format!("unknown keyword '{}' out of section", keyword.text),
        ));
        return;
    };
    let span = line_span(pos, &words);
    section.lines.push(LineDecl { words, span });
}

/// `kind [name] [from defaults] [extra...]`. A header starting with `from`
/// has no name (`defaults from base`); a `from` with nothing after it is
/// left in `extra` for `compile` to report.
fn section_header(kind: SectionKind, words: Vec<Word>) -> SectionDecl {
    let mut iter = words.into_iter();
    // `add_line` only calls this with a non-empty list.
    let keyword_span = iter.next().map(|w| w.span).unwrap_or_default();
    let mut rest: Vec<Word> = iter.collect();
    let mut name = None;
    if rest.first().is_some_and(|w| w.text != "from") {
        name = Some(rest.remove(0));
    }
    let mut from = None;
    if rest.len() >= 2 && rest[0].text == "from" {
        from = Some(rest.remove(1));
        rest.remove(0);
    }
    SectionDecl {
        kind,
        keyword_span,
        name,
        from,
        extra: rest,
        lines: Vec::new(),
    }
}

/// From the first word's start to the end of the word that ends last.
fn line_span(pos: LinePos, words: &[Word]) -> Span {
    let col = words.first().map_or(1, |w| w.span.col);
    let end = words
        .iter()
        .map(|w| w.span.col.saturating_add(w.span.len))
        .max()
        .unwrap_or(col);
    Span {
        file: pos.file,
        line: pos.line,
        col,
        len: end.saturating_sub(col),
    }
}

#[cfg(test)]
mod tests;

/// Variables set or removed by `setenv`, `presetenv`, `unsetenv` and
/// `resetenv` lines of a `global` section.
#[derive(Default)]
struct EnvOverlay {
    /// `Some(value)`: set; `None`: removed.
    vars: ahash::AHashMap<String, Option<String>>,
    /// After `resetenv`: only these names of the real environment remain.
    kept: Option<Vec<String>>,
}

impl EnvOverlay {
    fn lookup(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if let Some(v) = self.vars.get(name) {
            return v.clone();
        }
        match &self.kept {
            Some(kept) if !kept.iter().any(|k| k == name) => None,
            _ => env(name),
        }
    }

    /// Applies the line just added, if it is one of the env keywords of a
    /// `global` section.
    fn apply(&mut self, out: &ParsedFile, env: &dyn Fn(&str) -> Option<String>) {
        let Some(section) = out.sections.last() else {
            return;
        };
        if section.kind != SectionKind::Global {
            return;
        }
        let Some(line) = section.lines.last() else {
            return;
        };
        let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
        match words.as_slice() {
            ["setenv", name, value] => {
                self.vars.insert(name.to_string(), Some(value.to_string()));
            }
            ["presetenv", name, value] if env(name).is_none() => {
                self.vars.insert(name.to_string(), Some(value.to_string()));
            }
            ["unsetenv", names @ ..] => {
                for name in names {
                    self.vars.insert(name.to_string(), None);
                }
            }
            ["resetenv", names @ ..] => {
                self.vars.retain(|k, _| names.contains(&k.as_str()));
                self.kept = Some(names.iter().map(|n| n.to_string()).collect());
            }
            _ => {}
        }
    }
}
