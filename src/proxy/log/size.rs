//! The bytes HAProxy counts for a response sent to the client (the log's
//! `bytes_read`, `bytes_out` of the stick counters): not the bytes on the
//! wire but the size of the message in its internal form. A head counts 20
//! bytes, the start line's three words, every header's name and value, and
//! one for the end of the head; a chunked body counts its payload (not the
//! chunk sizes) and one for its end. The `Connection` header's `close` and
//! `keep-alive` tokens are taken out when the head is parsed (an emptied
//! header disappears) and the one HAProxy adds on the way out is not
//! counted, nor are lbd's own framing changes (re-chunking, `connection:
//! close`).

use crate::proxy::hooks;
use crate::rules::message::ResponseHead;

/// The counted size of response head `resp` as received from the server
/// (after the `http-response` rules, before lbd rewrites its framing);
/// `chunked` adds the end-of-body mark of a chunked body.
pub fn response_head(resp: &ResponseHead, chunked: bool) -> u64 {
    let written = hooks::response_size(resp);
    let connection = resp
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
        .map(|(n, v)| (n.len() + v.len()) as u64 - connection_kept(n, v))
        .sum::<u64>();
    written - connection + u64::from(chunked)
}

/// The counted size of a whole response lbd built itself (`wire`: head
/// with CRLF line ends, then the body).
pub fn page(wire: &[u8]) -> u64 {
    let (head, body) = match find(wire, b"\r\n\r\n") {
        Some(i) => (&wire[..i], &wire[i + 4..]),
        None => (wire, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    // "HTTP/1.1 503 Service Unavailable": the three words without the two
    // spaces between them (the reason keeps its own).
    let start = lines.next().map_or(0, |l| l.len().saturating_sub(2)) as u64;
    let fields: u64 = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let colon = l.iter().position(|&b| b == b':').unwrap_or(l.len());
            let name = &l[..colon];
            let value = l.get(colon + 1..).unwrap_or_default().trim_ascii();
            if name.eq_ignore_ascii_case(b"connection") {
                connection_kept(name, value)
            } else {
                (name.len() + value.len()) as u64
            }
        })
        .sum();
    20 + start + fields + 1 + body.len() as u64
}

/// What a `Connection: <value>` header still counts once its `close` and
/// `keep-alive` tokens are gone: nothing when none is left, else its name
/// and the other tokens joined by `", "`.
fn connection_kept(name: &[u8], value: &[u8]) -> u64 {
    let (mut tokens, mut bytes) = (0usize, 0usize);
    for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
        let dropped = token.is_empty()
            || token.eq_ignore_ascii_case(b"close")
            || token.eq_ignore_ascii_case(b"keep-alive");
        if !dropped {
            tokens += 1;
            bytes += token.len();
        }
    }
    if tokens == 0 {
        return 0;
    }
    (name.len() + bytes + 2 * (tokens - 1)) as u64
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::message::Version;

    fn head(headers: &[(&str, &str)]) -> ResponseHead {
        let mut r = ResponseHead::new();
        r.set_status(Version::Http11, 200, b"OK");
        for (n, v) in headers {
            r.headers.push(n.as_bytes(), v.as_bytes());
        }
        r
    }

    // Each expected number is what HAProxy 2.6 logged for the same response
    // with a 5-byte body (so 5 less here), or 11 payload bytes when chunked.
    #[test]
    fn server_heads_count_as_haproxy_logs_them() {
        let plain = head(&[("Content-Length", "5"), ("X-Empty", "")]);
        assert_eq!(response_head(&plain, false), 61 - 5);
        let ka = head(&[
            ("Content-Length", "5"),
            ("Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5"),
        ]);
        assert_eq!(response_head(&ka, false), 73 - 5);
        let ka2 = head(&[("Content-Length", "5"), ("Connection", "keep-alive, foo")]);
        assert_eq!(response_head(&ka2, false), 67 - 5);
        let upgrade = head(&[
            ("Content-Length", "5"),
            ("Connection", "Upgrade"),
            ("Upgrade", "h2c"),
        ]);
        assert_eq!(response_head(&upgrade, false), 81 - 5);
        let close = head(&[("Content-Length", "5"), ("Connection", "Close")]);
        assert_eq!(response_head(&close, false), 54 - 5);
        let chunked = head(&[("Transfer-Encoding", "chunked")]);
        assert_eq!(response_head(&chunked, true), 70 - 11);
    }

    #[test]
    fn pages_count_as_haproxy_logs_them() {
        let p503 = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
        assert_eq!(page(p503), 217);
        let closing = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
        assert_eq!(page(closing), 192);
        let redirect = b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /x\r\ncache-control: no-cache\r\n\r\n";
        assert_eq!(page(redirect), 83);
        let ret = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi";
        assert_eq!(page(ret), 73);
    }
}
