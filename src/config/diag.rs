//! Diagnostics: what is wrong, where, and how bad.

use super::source::Span;

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
