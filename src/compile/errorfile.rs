//! `errorfile <code> <file>`: the file is read and validated at check time
//! and kept in the form it is sent in.

use std::sync::Arc;

use super::args::required;
use super::cx::Cx;
use crate::config::ast::LineDecl;
use crate::config::diag::Diagnostic;

/// Status codes `errorfile` accepts (HAProxy 2.6's list).
pub const STATUSES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// Compiles `errorfile <code> <file>` into (code, response bytes).
pub fn compile(line: &LineDecl, cx: &Cx) -> Result<(u16, Arc<[u8]>), Diagnostic> {
    let code_word = required(line, 1, "errorfile", "a status code and a file")?;
    let file_word = required(line, 2, "errorfile", "a file")?;
    let code = code_word
        .text
        .parse::<u16>()
        .ok()
        .filter(|c| STATUSES.contains(c))
        .ok_or_else(|| {
            Diagnostic::error(
                code_word.span,
                format!("'errorfile' does not handle status '{}'", code_word.text),
            )
        })?;
    let path = cx.resolve_path(file_word.span, &file_word.text);
    let bytes = std::fs::read(&path).map_err(|e| {
        Diagnostic::error(
            file_word.span,
            format!("'errorfile': cannot read '{}' ({e})", path.display()),
        )
    })?;
    let response = normalize(&bytes).map_err(|why| {
        Diagnostic::error(
            file_word.span,
            format!(
                "'errorfile': '{}' is not a valid HTTP response ({why})",
                path.display()
            ),
        )
    })?;
    Ok((code, response.into()))
}

/// Parses a raw response file and rewrites it the way it goes on the wire:
/// CRLF line ends, header names in lower case, no `Connection` header (the
/// response always closes), the body as is.
pub fn normalize(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("its head does not end with an empty line"),
        Err(_) => return Err("its head does not parse"),
    };
    let (Some(version), Some(code)) = (response.version, response.code) else {
        return Err("it has no status line");
    };
    let mut out = Vec::with_capacity(bytes.len() + 8);
    out.extend_from_slice(if version == 0 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(code.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(response.reason.unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.extend_from_slice(header.name.to_ascii_lowercase().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&bytes[head_len..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_is_sent_as_haproxy_sends_it() {
        let file = b"HTTP/1.0 503 Service Unavailable\nCache-Control: no-cache\nConnection: close\nContent-Type: text/plain\n\nEase up: too many connections from your address.\n";
        let wire = normalize(file).unwrap();
        assert_eq!(
            wire,
            b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nEase up: too many connections from your address.\n"
        );
    }

    #[test]
    fn a_file_without_a_head_is_rejected() {
        assert!(normalize(b"hello").is_err());
        assert!(normalize(b"HTTP/1.0 503 X\r\n").is_err());
    }
}
