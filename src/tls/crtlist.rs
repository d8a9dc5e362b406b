//! `crt-list` files: one certificate per line with optional SNI filters.
//!
//! A line is `<crtfile> [\[<options>\]] [[!]<snifilter> ...]`; empty lines and
//! lines starting with `#` are skipped. Per-certificate options in brackets
//! would need a different TLS configuration per certificate, which lbd does
//! not build: they are reported as not supported.

use std::path::{Path, PathBuf};

use super::error::TlsError;

/// One line of a crt-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrtListEntry {
    pub line: usize,
    pub cert: PathBuf,
    /// Names (or `*.domain` wildcards) this certificate is chosen for; empty
    /// = the names in the certificate.
    pub filters: Vec<String>,
    /// Names it must never be chosen for (`!name`); `*` = none at all.
    pub excluded: Vec<String>,
}

/// Reads and parses a crt-list file.
pub fn load(path: &Path) -> Result<Vec<CrtListEntry>, TlsError> {
    let bytes = super::certfile::read(path)?;
    let text = String::from_utf8(bytes).map_err(|_| TlsError::CrtList {
        path: path.to_path_buf(),
        line: 0,
        reason: "not UTF-8 text".to_string(),
    })?;
    parse(path, &text)
}

/// Parses the text of the crt-list at `path`.
pub fn parse(path: &Path, text: &str) -> Result<Vec<CrtListEntry>, TlsError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |reason: String| TlsError::CrtList {
            path: path.to_path_buf(),
            line: line_no,
            reason,
        };
        let mut words = line.split_whitespace();
        let Some(cert) = words.next() else {
            continue;
        };
        let mut entry = CrtListEntry {
            line: line_no,
            cert: PathBuf::from(cert),
            filters: Vec::new(),
            excluded: Vec::new(),
        };
        let mut in_options = false;
        let mut options = Vec::new();
        for word in words {
            if in_options || (word.starts_with('[') && entry.filters.is_empty()) {
                let inner = word.strip_prefix('[').unwrap_or(word);
                in_options = !inner.ends_with(']');
                let inner = inner.strip_suffix(']').unwrap_or(inner);
                if !inner.is_empty() {
                    options.push(inner.to_string());
                }
                continue;
            }
            match word.strip_prefix('!') {
                Some("") => return Err(error("empty negative SNI filter '!'".to_string())),
                Some(name) => entry.excluded.push(name.to_ascii_lowercase()),
                None => entry.filters.push(word.to_ascii_lowercase()),
            }
        }
        if in_options {
            return Err(error("'[' without a closing ']'".to_string()));
        }
        if let Some(option) = options.first() {
            return Err(error(format!(
                "per-certificate option '{option}' is not supported by lbd"
            )));
        }
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<CrtListEntry> {
        match parse(Path::new("list.txt"), text) {
            Ok(entries) => entries,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn lines_filters_and_comments() {
        let entries = parse_ok(
            "cert1.pem !*\n\
             # comment\n\
             \n\
             cert2.pem []\n\
             certW.pem   *.Domain.tld !secure.domain.tld\n",
        );
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].cert, PathBuf::from("cert1.pem"));
        assert_eq!(entries[0].excluded, vec!["*"]);
        assert!(entries[0].filters.is_empty());
        assert_eq!(entries[1].line, 4);
        assert!(entries[1].filters.is_empty());
        assert_eq!(entries[2].filters, vec!["*.domain.tld"]);
        assert_eq!(entries[2].excluded, vec!["secure.domain.tld"]);
    }

    #[test]
    fn options_are_refused_with_the_line() {
        let err = parse(
            Path::new("l.txt"),
            "a.pem\nb.pem [alpn h2,http/1.1] b.example\n",
        );
        assert_eq!(
            err,
            Err(TlsError::CrtList {
                path: PathBuf::from("l.txt"),
                line: 2,
                reason: "per-certificate option 'alpn' is not supported by lbd".to_string(),
            })
        );
    }

    #[test]
    fn unclosed_bracket() {
        let err = parse(Path::new("l.txt"), "a.pem [alpn h2");
        assert!(matches!(err, Err(TlsError::CrtList { line: 1, .. })));
    }
}
