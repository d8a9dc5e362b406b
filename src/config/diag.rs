//! Diagnostics: what is wrong, where, and how bad.

use super::source::{SourceMap, Span};

/// How bad a problem is. Mirrors HAProxy's warning / alert / abort levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Printed; the configuration stays valid.
    Warning,
    /// The configuration is invalid; checking goes on to report the rest.
    Error,
    /// Checking cannot go on (an unreadable file).
    Fatal,
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The word the problem is about. `None` only for problems that have no
    /// place in a file (a path given on the command line that does not exist).
    pub span: Option<Span>,
    /// Lower case, no final period, user text in single quotes.
    pub message: String,
    /// A hint such as "did you mean 'use_backend'?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            span: Some(span),
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            span: Some(span),
            message: message.into(),
            help: None,
        }
    }

    pub fn fatal(span: Option<Span>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Fatal,
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// Renders a diagnostic as `path:line:col: message (help)`, then the source
/// line as written and a caret line under the word (`^` then `~` for the rest
/// of it). Warnings say `warning: ` after the location. A diagnostic without
/// a span renders as its message alone, after `warning: ` if it is one.
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let level = match diagnostic.severity {
        Severity::Warning => "warning: ",
        Severity::Error | Severity::Fatal => "",
    };
    let mut out = String::new();
    if let Some(span) = diagnostic.span {
        let path = sources
            .path(span.file)
            .map_or_else(|| "?".to_owned(), |p| p.display().to_string());
        out.push_str(&format!("{path}:{}:{}: ", span.line, span.col));
    }
    out.push_str(level);
    out.push_str(&diagnostic.message);
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!(" ({help})"));
    }
    let line = diagnostic
        .span
        .and_then(|span| Some((span, sources.line_text(span.file, span.line)?)));
    if let Some((span, text)) = line {
        out.push('\n');
        out.push_str(text);
        out.push('\n');
        out.push_str(&caret_line(text, span));
    }
    out
}

/// Blanks up to the column (tabs kept so the caret lines up), then `^` and
/// `len - 1` tildes.
fn caret_line(text: &str, span: Span) -> String {
    let before = usize::try_from(span.col.saturating_sub(1)).unwrap_or(0);
    let mut out: String = text
        .chars()
        .chain(std::iter::repeat(' '))
        .take(before)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    out.push('^');
    let tildes = usize::try_from(span.len.saturating_sub(1)).unwrap_or(0);
    out.extend(std::iter::repeat_n('~', tildes));
    out
}

#[cfg(test)]
mod tests;
