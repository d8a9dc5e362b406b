//! Conditional blocks (`.if`, `.elif`, `.else`, `.endif`) and the message
//! directives (`.warning`, `.alert`, `.notice`, `.diag`), applied while a
//! file is read. Lines inside a false branch are still split into words, so
//! their quoting errors are reported, as HAProxy does.

use super::ast::Word;
use super::cond::eval_condition;
use super::diag::Diagnostic;
use super::source::Span;

/// The open `.if` levels of one file.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    levels: Vec<Level>,
}

#[derive(Debug)]
struct Level {
    /// The `.if` keyword, for "non-terminated" errors.
    span: Span,
    /// Every enclosing level is in its true branch.
    parent_active: bool,
    /// The branch being read is the chosen one.
    active: bool,
    /// A branch of this level has been chosen already.
    taken: bool,
    seen_else: bool,
}

impl Blocks {
    /// True when ordinary lines are kept.
    pub(super) fn active(&self) -> bool {
        self.levels.last().is_none_or(|l| l.active)
    }

    /// Handles `words` if they form a directive; returns false for an
    /// ordinary line. Problems go to `out`.
    pub(super) fn directive(
        &mut self,
        words: &[Word],
        env: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<Diagnostic>,
    ) -> bool {
        let Some(keyword) = words.first() else {
            return false;
        };
        let args = &words[1..];
        match keyword.text.as_str() {
            ".if" => self.open(keyword, args, env, out),
            ".elif" => self.elif(keyword, args, env, out),
            ".else" | ".endif" => {
                no_args(keyword, args, out);
                if keyword.text == ".else" {
                    self.otherwise(keyword, out);
                } else if self.levels.pop().is_none() {
                    out.push(lone(keyword));
                }
            }
            ".warning" | ".alert" | ".notice" | ".diag" => self.message(keyword, args, out),
            _ => return false,
        }
        true
    }

    /// Reports every `.if` left open at the end of the file.
    pub(super) fn finish(self, out: &mut Vec<Diagnostic>) {
        for level in self.levels {
            out.push(Diagnostic::error(level.span, "non-terminated '.if' block"));
        }
    }

    fn open(
        &mut self,
        keyword: &Word,
        args: &[Word],
        env: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<Diagnostic>,
    ) {
        let parent_active = self.active();
        let chosen = parent_active && condition(keyword, args, env, out);
        self.levels.push(Level {
            span: keyword.span,
            parent_active,
            active: chosen,
            taken: chosen,
            seen_else: false,
        });
    }

    fn elif(
        &mut self,
        keyword: &Word,
        args: &[Word],
        env: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(level) = self.levels.last_mut() else {
            return out.push(lone(keyword));
        };
        if level.seen_else {
            return out.push(after_else(keyword));
        }
        let chosen = level.parent_active && !level.taken && condition(keyword, args, env, out);
        level.active = chosen;
        level.taken |= chosen;
    }

    fn otherwise(&mut self, keyword: &Word, out: &mut Vec<Diagnostic>) {
        let Some(level) = self.levels.last_mut() else {
            return out.push(lone(keyword));
        };
        if level.seen_else {
            return out.push(after_else(keyword));
        }
        level.seen_else = true;
        level.active = level.parent_active && !level.taken;
        level.taken = true;
    }

    /// `.warning` and `.alert` become diagnostics; `.notice` and `.diag` are
    /// informational in HAProxy and produce nothing here.
    fn message(&self, keyword: &Word, args: &[Word], out: &mut Vec<Diagnostic>) {
        if !self.active() {
            return;
        }
        let text = join(args);
        match keyword.text.as_str() {
            ".warning" => out.push(Diagnostic::warning(keyword.span, text)),
            ".alert" => out.push(Diagnostic::error(keyword.span, text)),
            _ => {}
        }
    }
}

/// Evaluates the words after `.if`/`.elif` joined by spaces, as HAProxy
/// does; an error is reported on the word where it was found and counts as
/// false.
fn condition(
    keyword: &Word,
    args: &[Word],
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let text = join(args);
    eval_condition(&text, env).unwrap_or_else(|e| {
        let span = word_at(args, e.offset).map_or(keyword.span, |w| w.span);
        let message = format!("{} in '{}'", e.message, keyword.text);
        out.push(Diagnostic::error(span, message));
        false
    })
}

/// The word of `words` covering byte `offset` of their space-joined text.
fn word_at(words: &[Word], offset: usize) -> Option<&Word> {
    let mut end = 0;
    words.iter().find(|w| {
        end += w.text.len() + 1;
        offset < end
    })
}

fn join(words: &[Word]) -> String {
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    texts.join(" ")
}

fn no_args(keyword: &Word, args: &[Word], out: &mut Vec<Diagnostic>) {
    if let Some(first) = args.first() {
        out.push(Diagnostic::error(
            first.span,
            format!(
                "unexpected argument '{}' for '{}'",
                first.text, keyword.text
            ),
        ));
    }
}

fn lone(keyword: &Word) -> Diagnostic {
    let message = format!("lone '{}' with no matching '.if'", keyword.text);
    Diagnostic::error(keyword.span, message)
}

fn after_else(keyword: &Word) -> Diagnostic {
    let message = format!("'{}' after '.else' is not permitted", keyword.text);
    Diagnostic::error(keyword.span, message)
}
