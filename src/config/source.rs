//! Loaded source texts and positions inside them.

use std::path::{Path, PathBuf};

/// Index of a loaded file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A place in a source file: 1-based line and column (in characters), and a
/// length in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

/// One loaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as given (or as found in a directory), used in messages.
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of each line, so that quoting a line for a
    /// diagnostic does not scan the file again.
    line_starts: Vec<usize>,
}

/// Every file loaded for one configuration, so that diagnostics can quote
/// the offending line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file's text and returns its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceFile {
            path,
            text,
            line_starts,
        });
        id
    }

    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.file(id).map(|f| f.path.as_path())
    }

    /// The text of a 1-based line of a file, without its line terminator.
    pub fn line_text(&self, id: FileId, line: u32) -> Option<&str> {
        let file = self.file(id)?;
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *file.line_starts.get(index)?;
        let end = file
            .line_starts
            .get(index + 1)
            .map_or(file.text.len(), |next| next - 1);
        let l = file.text.get(start..end)?;
        Some(l.strip_suffix('\r').unwrap_or(l))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}
