//! Reading configuration files (and directories of them) into one
//! [`ConfigDecl`], with the texts kept for diagnostics.

use std::path::{Path, PathBuf};

use super::ast::ConfigDecl;
use super::diag::Diagnostic;
use super::parser::parse_file;
use super::source::SourceMap;

/// Everything loading produced: the texts, the sections of every file in
/// load order, and every diagnostic in file then source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub source_map: SourceMap,
    pub config: ConfigDecl,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// True when a diagnostic is an error or worse.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity >= super::diag::Severity::Error)
    }
}

/// Loads files as `haproxy -f` does, with the process environment. A
/// directory stands for its non-hidden `*.cfg` files in byte order of their
/// names. A path that cannot be read is a `Fatal` diagnostic, and loading
/// stops there.
pub fn load(paths: &[PathBuf]) -> Loaded {
    load_with_env(paths, &|name| std::env::var(name).ok())
}

/// [`load`] with an injected environment lookup.
pub fn load_with_env(paths: &[PathBuf], env: &dyn Fn(&str) -> Option<String>) -> Loaded {
    let mut loaded = Loaded::default();
    for path in paths {
        let files = if path.is_dir() {
            match dir_files(path) {
                Ok(files) => files,
                Err(e) => return fatal(loaded, path, &e),
            }
        } else {
            vec![path.clone()]
        };
        for file in files {
            match std::fs::read(&file) {
                Ok(bytes) => add_file(&mut loaded, file, &bytes, env),
                Err(e) => return fatal(loaded, &file, &e),
            }
        }
    }
    loaded
}

/// Parses text that did not come from disk (tests, fuzzing) as one file.
pub fn parse_str(path: impl Into<PathBuf>, text: &str) -> Loaded {
    parse_bytes(path, text.as_bytes(), &|_| None)
}

/// Parses bytes as one file named `path`, with an injected environment.
pub fn parse_bytes(
    path: impl Into<PathBuf>,
    bytes: &[u8],
    env: &dyn Fn(&str) -> Option<String>,
) -> Loaded {
    let mut loaded = Loaded::default();
    add_file(&mut loaded, path.into(), bytes, env);
    loaded
}

fn add_file(
    loaded: &mut Loaded,
    path: PathBuf,
    bytes: &[u8],
    env: &dyn Fn(&str) -> Option<String>,
) {
    // Invalid UTF-8 is reported per line by the parser; the lossy text only
    // serves to quote lines in messages, and keeps the same columns up to the
    // first bad byte of a line.
    let text = String::from_utf8_lossy(bytes).into_owned();
    let id = loaded.source_map.add(path, text);
    let parsed = parse_file(id, bytes, env);
    loaded.config.sections.extend(parsed.sections);
    loaded.diagnostics.extend(parsed.diagnostics);
}

/// The regular, non-hidden `*.cfg` files of a directory, sorted by name.
fn dir_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.as_encoded_bytes();
        if name.starts_with(b".") || !name.ends_with(b".cfg") {
            continue;
        }
        if entry.file_type()?.is_file() || entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(files)
}

fn fatal(mut loaded: Loaded, path: &Path, error: &std::io::Error) -> Loaded {
    loaded.diagnostics.push(Diagnostic::fatal(
        None,
        format!("cannot read '{}': {error}", path.display()),
    ));
    loaded
}

#[cfg(test)]
mod tests;
