//! The responses lbd answers itself, byte for byte as HAProxy 2.6 sends them.
//!
//! Two shapes exist in HAProxy. Errors found while parsing the request (400,
//! 408, and lbd's 414, 431, 501) go out as written in HAProxy's table, with
//! capitalized names and `Connection: close`. Errors produced after parsing
//! (403, 500, 502, 503, 504) pass through HAProxy's message layer, so their
//! header names are lower-cased and `connection: close` is only added when
//! the connection closes. An `errorfile` replaces the page of its status; it
//! is re-emitted the same way (names lower-cased, its `Connection` line
//! dropped, no length added) and the connection is closed after it.

use crate::compile::program::{Program, ProxyId};

/// A page to send, and whether the connection must close after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    pub bytes: &'a [u8],
    pub close: bool,
}

#[derive(Debug)]
struct Default {
    status: u16,
    /// Sent while the connection stays open (or always, for parse errors).
    open: Vec<u8>,
    /// Sent when the connection closes after it.
    closing: Vec<u8>,
}

/// Every error page of a program, rendered once at start.
#[derive(Debug)]
pub struct ErrorPages {
    defaults: Vec<Default>,
    /// Rendered `errorfile`s by proxy.
    files: Vec<Vec<(u16, Vec<u8>)>>,
}

/// (status, reason, message, parse-time error).
const TABLE: &[(u16, &str, &str, bool)] = &[
    (
        400,
        "Bad request",
        "Your browser sent an invalid request.",
        true,
    ),
    (
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
        false,
    ),
    (
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
        true,
    ),
    (
        414,
        "Request-URI Too Long",
        "The request URI is too long.",
        true,
    ),
    (
        431,
        "Request Header Fields Too Large",
        "The request header fields are too large.",
        true,
    ),
    (
        500,
        "Internal Server Error",
        "An internal server error occurred.",
        false,
    ),
    (
        501,
        "Not Implemented",
        "The server does not support the transfer coding of the request.",
        true,
    ),
    (
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
        false,
    ),
    (
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
        false,
    ),
    (
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
        false,
    ),
];

impl ErrorPages {
    pub fn new(program: &Program) -> ErrorPages {
        let defaults = TABLE
            .iter()
            .map(|&(status, reason, message, parse_time)| {
                render_default(status, reason, message, parse_time)
            })
            .collect();
        let files = program
            .proxies
            .iter()
            .map(|p| {
                TABLE
                    .iter()
                    .filter_map(|&(status, ..)| {
                        p.errorfiles
                            .page(status)
                            .map(|raw| (status, render_file(raw)))
                    })
                    .collect()
            })
            .collect();
        ErrorPages { defaults, files }
    }

    /// Whether `proxy` has an `errorfile` for `status`.
    pub fn has_file(&self, proxy: ProxyId, status: u16) -> bool {
        self.files
            .get(proxy.0 as usize)
            .is_some_and(|list| list.iter().any(|(s, _)| *s == status))
    }

    /// The page for `status` of `proxy` (its `errorfile`, else the default).
    /// `close`: the connection will close after it.
    pub fn page(&self, proxy: Option<ProxyId>, status: u16, close: bool) -> Page<'_> {
        if let Some(bytes) = proxy
            .and_then(|p| self.files.get(p.0 as usize))
            .and_then(|list| list.iter().find(|(s, _)| *s == status))
            .map(|(_, b)| b.as_slice())
        {
            return Page { bytes, close: true };
        }
        let d = self
            .defaults
            .iter()
            .find(|d| d.status == status)
            .or_else(|| self.defaults.iter().find(|d| d.status == 500));
        match d {
            Some(d) if close || d.open == d.closing => Page {
                bytes: &d.closing,
                close: true,
            },
            Some(d) => Page {
                bytes: &d.open,
                close: false,
            },
            None => Page {
                bytes: b"",
                close: true,
            },
        }
    }
}

fn render_default(status: u16, reason: &str, message: &str, parse_time: bool) -> Default {
    let body = format!("<html><body><h1>{status} {reason}</h1>\n{message}\n</body></html>\n");
    if parse_time {
        let page = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        return Default {
            status,
            open: page.clone(),
            closing: page,
        };
    }
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
        body.len()
    );
    Default {
        status,
        open: format!("{head}\r\n{body}").into_bytes(),
        closing: format!("{head}connection: close\r\n\r\n{body}").into_bytes(),
    }
}

/// Re-emits an `errorfile`: status line kept, header names lower-cased,
/// `Connection` dropped, CRLF line ends, body untouched.
fn render_file(raw: &[u8]) -> Vec<u8> {
    let (head, body) = match find(raw, b"\r\n\r\n") {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => match find(raw, b"\n\n") {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => (raw, &[][..]),
        },
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    if let Some(status) = lines.next() {
        out.extend_from_slice(status);
        out.extend_from_slice(b"\r\n");
    }
    for line in lines.filter(|l| !l.is_empty()) {
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let name = &line[..colon];
        if name.eq_ignore_ascii_case(b"connection") {
            continue;
        }
        out.extend(name.iter().map(u8::to_ascii_lowercase));
        out.extend_from_slice(&line[colon..]);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::Mode;
    use crate::proxy::testutil;
    use std::sync::Arc;

    #[test]
    fn defaults_match_haproxy_bytes() {
        let pages = ErrorPages::new(&testutil::program(Vec::new()));
        assert_eq!(
            pages.page(None, 400, false).bytes,
            &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"[..]
        );
        let p = pages.page(None, 503, false);
        assert!(!p.close);
        assert_eq!(
            p.bytes,
            &b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"[..]
        );
        assert!(pages.page(None, 503, true).bytes.ends_with(b"connection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"));
        assert!(
            pages
                .page(None, 504, false)
                .bytes
                .starts_with(b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\n")
        );
        assert!(
            pages
                .page(None, 403, false)
                .bytes
                .starts_with(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\n")
        );
        assert!(
            pages
                .page(None, 408, false)
                .bytes
                .starts_with(b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n")
        );
    }

    #[test]
    fn errorfile_is_lowercased_without_connection() {
        let mut p = testutil::listen(0, Mode::Http, None, Vec::new());
        let raw: Arc<[u8]> = Arc::from(&b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nEase up: too many connections from your address.\n"[..]);
        p.errorfiles.set(503, raw);
        let pages = ErrorPages::new(&testutil::program(vec![p]));
        let page = pages.page(Some(ProxyId(0)), 503, false);
        assert!(page.close);
        assert_eq!(page.bytes, &b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nEase up: too many connections from your address.\n"[..]);
    }
}
