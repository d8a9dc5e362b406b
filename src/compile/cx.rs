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

/// A `crt-base` or `ca-base` directory, as written, with the line that set
/// it: HAProxy applies it while reading the lines that follow, so it does
/// nothing for a `bind` or `server` above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDir {
    pub dir: String,
    pub span: Span,
}

/// Compiler state shared by every section's compilation.
pub struct Cx<'s> {
    pub sources: &'s SourceMap,
    pub default_path: DefaultPath,
    /// `crt-base`: prefixes relative `crt` names and certificate names in a
    /// `crt-list` (not the crt-list's own name).
    pub crt_base: Option<BaseDir>,
    /// `ca-base`: prefixes relative `ca-file` names of binds and servers.
    pub ca_base: Option<BaseDir>,
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
            crt_base: None,
            ca_base: None,
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

    /// A `crt` name from the line at `span`: below `crt-base` when it is
    /// relative, then resolved per `default-path`.
    pub fn resolve_crt(&self, span: Span, name: &str) -> PathBuf {
        self.resolve_path(span, &with_base(self.crt_base.as_ref(), span, name))
    }

    /// A `ca-file` name from the line at `span`: below `ca-base` when it is
    /// relative, then resolved per `default-path`.
    pub fn resolve_ca(&self, span: Span, name: &str) -> PathBuf {
        self.resolve_path(span, &with_base(self.ca_base.as_ref(), span, name))
    }

    /// The directory relative certificate names inside a `crt-list` named
    /// on the line at `span` resolve from: `crt-base`, else the
    /// `default-path` directory (never the crt-list's own directory).
    pub fn crt_list_dir(&self, span: Span) -> PathBuf {
        match self.crt_base.as_ref().filter(|b| b.span < span) {
            Some(base) => self.resolve_path(span, &base.dir),
            None => self.base_dir(span),
        }
    }
}

/// `name` below `base` when `name` is relative and `base` was set before
/// `span`; HAProxy joins them with a `/`.
fn with_base(base: Option<&BaseDir>, span: Span, name: &str) -> String {
    match base {
        Some(base) if base.span < span && !name.starts_with('/') => {
            format!("{}/{name}", base.dir.trim_end_matches('/'))
        }
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source::FileId;

    fn span(file: u32, line: u32) -> Span {
        Span {
            file: FileId(file),
            line,
            col: 1,
            len: 1,
        }
    }

    fn base(dir: &str, line: u32) -> Option<BaseDir> {
        Some(BaseDir {
            dir: dir.to_string(),
            span: span(0, line),
        })
    }

    fn sources() -> SourceMap {
        let mut sources = SourceMap::new();
        sources.add(PathBuf::from("/etc/lb/conf/lb.cfg"), String::new());
        sources
    }

    #[test]
    fn crt_base_prefixes_relative_names_only() {
        let sources = sources();
        let mut cx = Cx::new(&sources);
        cx.crt_base = base("/etc/ssl/sites", 2);
        let at = span(0, 10);
        assert_eq!(
            cx.resolve_crt(at, "a.pem"),
            Path::new("/etc/ssl/sites/a.pem")
        );
        // Only a leading '/' makes a name absolute: './' is below the base.
        assert_eq!(
            cx.resolve_crt(at, "./a.pem"),
            Path::new("/etc/ssl/sites/./a.pem")
        );
        assert_eq!(cx.resolve_crt(at, "/srv/a.pem"), Path::new("/srv/a.pem"));
        // ca-file is not under crt-base.
        assert_eq!(cx.resolve_ca(at, "ca.pem"), Path::new("ca.pem"));
    }

    #[test]
    fn ca_base_with_a_trailing_slash() {
        let sources = sources();
        let mut cx = Cx::new(&sources);
        cx.ca_base = base("/etc/ssl/ca/", 2);
        let at = span(0, 10);
        assert_eq!(cx.resolve_ca(at, "ca.pem"), Path::new("/etc/ssl/ca/ca.pem"));
        assert_eq!(cx.resolve_crt(at, "a.pem"), Path::new("a.pem"));
    }

    #[test]
    fn a_base_set_below_the_line_does_not_apply() {
        let sources = sources();
        let mut cx = Cx::new(&sources);
        cx.crt_base = base("/etc/ssl/sites", 20);
        assert_eq!(cx.resolve_crt(span(0, 10), "a.pem"), Path::new("a.pem"));
        assert_eq!(cx.crt_list_dir(span(0, 10)), PathBuf::new());
        // A later file comes after every line of an earlier one.
        assert_eq!(
            cx.resolve_crt(span(1, 1), "a.pem"),
            Path::new("/etc/ssl/sites/a.pem")
        );
    }

    #[test]
    fn a_relative_base_resolves_per_default_path() {
        let sources = sources();
        let mut cx = Cx::new(&sources);
        cx.default_path = DefaultPath::Config;
        cx.crt_base = base("certs", 2);
        let at = span(0, 10);
        assert_eq!(
            cx.resolve_crt(at, "a.pem"),
            Path::new("/etc/lb/conf/certs/a.pem")
        );
        assert_eq!(cx.crt_list_dir(at), Path::new("/etc/lb/conf/certs"));
        cx.default_path = DefaultPath::Parent;
        assert_eq!(
            cx.resolve_crt(at, "a.pem"),
            Path::new("/etc/lb/certs/a.pem")
        );
    }

    #[test]
    fn crt_list_names_without_crt_base_follow_default_path() {
        let sources = sources();
        let mut cx = Cx::new(&sources);
        let at = span(0, 10);
        assert_eq!(cx.crt_list_dir(at), PathBuf::new());
        cx.default_path = DefaultPath::Origin(PathBuf::from("/srv/lb"));
        assert_eq!(cx.crt_list_dir(at), Path::new("/srv/lb"));
        cx.crt_base = base("/etc/ssl/sites", 2);
        assert_eq!(cx.crt_list_dir(at), Path::new("/etc/ssl/sites"));
    }
}
