//! The compiler's working state: collected diagnostics and how relative file
//! names resolve.

use std::path::{Path, PathBuf};

use super::program::ProxyId;
use crate::config::diag::{Diagnostic, Severity};
use crate::config::source::{SourceMap, Span};

/// How relative file names resolve (`default-path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultPath {
    /// The directory lbd was started from (HAProxy's default).
    Current,
    /// The directory of the file holding the line.
    Config,
    /// Below the given directory.
    Origin(PathBuf),
    /// The parent of the given directory.
    Parent,
}

/// Compiler state shared by every section's compilation.
pub struct Cx<'s> {
    pub sources: &'s SourceMap,
    pub default_path: DefaultPath,
    /// (frontend, backend, where) for every backend a frontend names, to
    /// check that their modes fit once every proxy is compiled.
    pub backend_references: Vec<(ProxyId, ProxyId, Span)>,
    /// Whether host names are looked up (off for fuzzing: no DNS traffic).
    pub resolve_names: bool,
    diagnostics: Vec<Diagnostic>,
}

impl<'s> Cx<'s> {
    pub fn new(sources: &'s SourceMap) -> Cx<'s> {
        Cx {
            sources,
            default_path: DefaultPath::Current,
            backend_references: Vec::new(),
            resolve_names: true,
            diagnostics: Vec::new(),
        }
    }

    /// Records a diagnostic once: lines of a `defaults` section are compiled
    /// again for each proxy that inherits them, and must be reported once.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        if !self.diagnostics.contains(&diagnostic) {
            self.diagnostics.push(diagnostic);
        }
    }

    /// Records the error of a result, if any.
    pub fn check<T>(&mut self, result: Result<T, Diagnostic>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(d) => {
                self.report(d);
                None
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity >= Severity::Error)
    }

    /// Every diagnostic, in source order (file, line, column).
    pub fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by_key(|d| d.span);
        self.diagnostics
    }

    pub fn diagnostics_mut(&mut self) -> &mut Vec<Diagnostic> {
        &mut self.diagnostics
    }

    /// The directory relative file names of the line at `span` resolve from.
    pub fn base_dir(&self, span: Span) -> PathBuf {
        let config_dir = || {
            self.sources
                .path(span.file)
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        match &self.default_path {
            DefaultPath::Current => PathBuf::new(),
            DefaultPath::Config => config_dir(),
            DefaultPath::Origin(dir) => dir.clone(),
            DefaultPath::Parent => config_dir()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        }
    }

    /// A file name from the line at `span`, resolved per `default-path`.
    pub fn resolve_path(&self, span: Span, name: &str) -> PathBuf {
        let path = Path::new(name);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir(span).join(path)
        }
    }
}
