//! The configuration as written: sections of lines of words, each with its
//! place in the source. This layer knows syntax only; what a keyword means is
//! decided by `compile`.

use super::source::Span;

/// One word of a line after unquoting, unescaping and environment expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word's value as the program will use it.
    pub text: String,
    /// Where the word starts in the source, and how many characters it spans
    /// there (quotes and escapes included).
    pub span: Span,
}

/// One logical line inside a section: its first word is the keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDecl {
    /// The words of the line; never empty.
    pub words: Vec<Word>,
    /// The whole line (first word to last word).
    pub span: Span,
}

impl LineDecl {
    /// The keyword (first word) of the line.
    pub fn keyword(&self) -> &Word {
        // A LineDecl is only built from a non-empty word list (see parser).
        &self.words[0]
    }

    /// The words after the keyword.
    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }
}

/// The kinds of section HAProxy 2.6 knows. lbd parses all of them so that an
/// unsupported one is reported by name rather than as a stream of unknown
/// keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Userlist,
    Peers,
    Resolvers,
    Cache,
    Program,
    HttpErrors,
    Ring,
    Mailers,
}

impl SectionKind {
    /// Every section kind, in the order HAProxy's manual lists them.
    pub const ALL: [SectionKind; 13] = [
        SectionKind::Global,
        SectionKind::Defaults,
        SectionKind::Frontend,
        SectionKind::Backend,
        SectionKind::Listen,
        SectionKind::Userlist,
        SectionKind::Peers,
        SectionKind::Resolvers,
        SectionKind::Cache,
        SectionKind::Program,
        SectionKind::HttpErrors,
        SectionKind::Ring,
        SectionKind::Mailers,
    ];

    /// The keyword that opens a section of this kind.
    pub fn as_keyword(self) -> &'static str {
        match self {
            SectionKind::Global => "global",
            SectionKind::Defaults => "defaults",
            SectionKind::Frontend => "frontend",
            SectionKind::Backend => "backend",
            SectionKind::Listen => "listen",
            SectionKind::Userlist => "userlist",
            SectionKind::Peers => "peers",
            SectionKind::Resolvers => "resolvers",
            SectionKind::Cache => "cache",
            SectionKind::Program => "program",
            SectionKind::HttpErrors => "http-errors",
            SectionKind::Ring => "ring",
            SectionKind::Mailers => "mailers",
        }
    }

    /// The section kind a keyword opens, if it opens one.
    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        SectionKind::ALL
            .into_iter()
            .find(|k| k.as_keyword() == word)
    }
}

/// One section: its header line and the lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDecl {
    pub kind: SectionKind,
    /// The section keyword itself (`backend`), for error locations.
    pub keyword_span: Span,
    /// The name after the keyword (`backend app`), when one was given.
    pub name: Option<Word>,
    /// `from <defaults>` on the header line, when given.
    pub from: Option<Word>,
    /// Any other words on the header line (an error for most kinds).
    pub extra: Vec<Word>,
    pub lines: Vec<LineDecl>,
}

/// A whole configuration: the sections of every loaded file, in load order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDecl {
    pub sections: Vec<SectionDecl>,
}
