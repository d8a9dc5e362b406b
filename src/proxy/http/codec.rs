//! Request and response heads: parsed with httparse, validated strictly, and
//! copied into the shared `RequestHead`/`ResponseHead` (header names
//! lower-cased, as HAProxy sends them).
//!
//! Anything ambiguous about where a message ends is refused, so that no two
//! parties can disagree on it (request smuggling): both Content-Length and
//! Transfer-Encoding, differing Content-Lengths, a Transfer-Encoding that is
//! not exactly a known coding list ending in a single `chunked`.

use super::headers::ConnTokens;
use crate::proxy::ProxyError;
use crate::rules::message::{HeaderBlock, RequestHead, ResponseHead, Version};

/// HAProxy's default `tune.http.maxhdr`.
pub const MAX_HEADERS: usize = 101;

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes (responses only).
    UntilClose,
}

/// What the session needs to know about a parsed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInfo {
    pub head_len: usize,
    pub body: Body,
    pub conn: ConnTokens,
    pub expect_continue: bool,
    /// `Upgrade` with `Connection: upgrade`.
    pub upgrade: bool,
}

/// What the session needs to know about a parsed response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseInfo {
    pub head_len: usize,
    pub body: Body,
    pub conn: ConnTokens,
}

/// Parses a request head from `buf`. `Ok(None)`: incomplete, read more.
pub fn parse_request(
    buf: &[u8],
    bufsize: usize,
    head: &mut RequestHead,
) -> Result<Option<RequestInfo>, ProxyError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() >= bufsize {
                let has_line = buf.contains(&b'\n');
                return Err(if has_line {
                    ProxyError::HeadersTooLarge
                } else {
                    ProxyError::UriTooLong
                });
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ProxyError::BadRequest("too many headers"));
        }
        Err(_) => return Err(ProxyError::BadRequest("malformed request head")),
    };
    if head_len > bufsize {
        return Err(ProxyError::HeadersTooLarge);
    }
    let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(ProxyError::BadRequest("incomplete request line"));
    };
    let version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    head.clear();
    head.set_line(method.as_bytes(), path.as_bytes(), version);
    let seen = copy_fields(buf, req.headers, &mut head.headers);
    let body = request_body(&head.headers, version, seen)?;
    let hosts = seen.hosts;
    if hosts > 1 || (hosts == 0 && version == Version::Http11) {
        return Err(ProxyError::BadRequest("missing or repeated host"));
    }
    let conn = seen.conn;
    let expect_continue = seen.expect
        && head
            .headers
            .first(b"expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let upgrade = conn.upgrade && seen.upgrade;
    Ok(Some(RequestInfo {
        head_len,
        body,
        conn,
        expect_continue,
        upgrade,
    }))
}

/// Parses a response head from `buf`; `request_is_head` because a response
/// to HEAD has no body whatever its headers say.
pub fn parse_response(
    buf: &[u8],
    bufsize: usize,
    request_is_head: bool,
    head: &mut ResponseHead,
) -> Result<Option<ResponseInfo>, ProxyError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= bufsize => {
            return Err(ProxyError::BadResponse("response head too large"));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ProxyError::BadResponse("malformed response head")),
    };
    let (Some(code), Some(minor)) = (resp.code, resp.version) else {
        return Err(ProxyError::BadResponse("incomplete status line"));
    };
    let version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    head.clear();
    head.set_status(version, code, resp.reason.unwrap_or("").as_bytes());
    let seen = copy_fields(buf, resp.headers, &mut head.headers);
    let no_body = request_is_head || (100..200).contains(&code) || code == 204 || code == 304;
    let body = match framing(&head.headers, seen) {
        Err(_) => return Err(ProxyError::BadResponse("ambiguous response framing")),
        Ok(_) if no_body => Body::None,
        Ok(Framing::Chunked) => Body::Chunked,
        Ok(Framing::Length(n)) => Body::Length(n),
        Ok(Framing::Nothing) => Body::UntilClose,
        // lbd does not forward transfer codings other than chunked.
        Ok(Framing::OtherCoding) => {
            return Err(ProxyError::BadResponse("unsupported transfer coding"));
        }
    };
    let conn = seen.conn;
    Ok(Some(ResponseInfo {
        head_len,
        body,
        conn,
    }))
}

/// Which framing and connection fields a head has, read while copying it
/// so that later checks do not scan every field again.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    length: Lengths,
    transfer_encoding: bool,
    conn: ConnTokens,
    expect: bool,
    upgrade: bool,
    hosts: u32,
}

/// The Content-Length values of a head: every one (comma lists included)
/// must be the same number of ASCII digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Lengths {
    #[default]
    None,
    Agreed(u64),
    Invalid(&'static str),
}

impl Lengths {
    fn add(&mut self, value: &[u8]) {
        for part in value.split(|&b| b == b',') {
            if matches!(self, Lengths::Invalid(_)) {
                return;
            }
            let part = trim_ows(part);
            if part.is_empty() || part.len() > 18 || !part.iter().all(u8::is_ascii_digit) {
                *self = Lengths::Invalid("invalid content-length");
                return;
            }
            let n = part
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            *self = match *self {
                Lengths::Agreed(m) if m != n => Lengths::Invalid("conflicting content-length"),
                _ => Lengths::Agreed(n),
            };
        }
    }
}

/// Copies the parsed fields of `raw` into `out` with lowercased names, and
/// notes the framing and connection fields. Fields written the usual way
/// (`Name: value\r\n`, one after the other) are copied in one piece.
fn copy_fields(raw: &[u8], fields: &[httparse::Header<'_>], out: &mut HeaderBlock) -> Seen {
    let first = out.len();
    match wire_span(raw, fields) {
        Some((from, to)) => {
            let lines = &raw[from..to];
            let base = lines.as_ptr() as usize;
            out.append_wire(
                lines,
                fields.iter().map(|f| {
                    let start = f.name.as_ptr() as usize - base;
                    (
                        start,
                        start + f.name.len(),
                        start + f.name.len() + 2 + f.value.len(),
                    )
                }),
            );
        }
        None => {
            for f in fields {
                out.push_lowercase(f.name.as_bytes(), f.value);
            }
        }
    }
    let mut seen = Seen::default();
    for (name, value) in out.iter().skip(first) {
        match name {
            b"content-length" => seen.length.add(value),
            b"transfer-encoding" => seen.transfer_encoding = true,
            b"connection" => seen.conn.add(value),
            b"expect" => seen.expect = true,
            b"upgrade" => seen.upgrade = true,
            b"host" => seen.hosts += 1,
            _ => {}
        }
    }
    seen
}

/// Where `fields` lie in `raw` when every one is written `Name: value\r\n`
/// right after the one before: the byte range from the first name to the
/// last line end.
fn wire_span(raw: &[u8], fields: &[httparse::Header<'_>]) -> Option<(usize, usize)> {
    let base = raw.as_ptr() as usize;
    let offset = |p: *const u8| (p as usize).checked_sub(base);
    let from = offset(fields.first()?.name.as_ptr())?;
    let mut next = from;
    for f in fields {
        let start = offset(f.name.as_ptr())?;
        let name_end = start + f.name.len();
        let value_start = offset(f.value.as_ptr())?;
        let value_end = value_start + f.value.len();
        let canonical = start == next
            && value_start == name_end + 2
            && raw.get(name_end..value_start) == Some(b": ")
            && raw.get(value_end..value_end + 2) == Some(b"\r\n");
        if !canonical {
            return None;
        }
        next = value_end + 2;
    }
    Some((from, next))
}

fn request_body(headers: &HeaderBlock, version: Version, seen: Seen) -> Result<Body, ProxyError> {
    match framing(headers, seen)? {
        Framing::Chunked if version == Version::Http10 => {
            Err(ProxyError::BadRequest("transfer-encoding in HTTP/1.0"))
        }
        Framing::Chunked => Ok(Body::Chunked),
        Framing::OtherCoding => Err(ProxyError::NotImplemented),
        Framing::Length(0) | Framing::Nothing => Ok(Body::None),
        Framing::Length(n) => Ok(Body::Length(n)),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Framing {
    Nothing,
    Length(u64),
    Chunked,
    /// Known codings without a final `chunked`.
    OtherCoding,
}

/// Reads Content-Length and Transfer-Encoding and refuses every ambiguity.
fn framing(headers: &HeaderBlock, seen: Seen) -> Result<Framing, ProxyError> {
    let length = match seen.length {
        Lengths::None => None,
        Lengths::Agreed(n) => Some(n),
        Lengths::Invalid(why) => return Err(ProxyError::BadRequest(why)),
    };
    let te = if seen.transfer_encoding {
        transfer_coding(headers)?
    } else {
        None
    };
    match (length, te) {
        (Some(_), Some(_)) => Err(ProxyError::BadRequest(
            "content-length with transfer-encoding",
        )),
        (Some(n), None) => Ok(Framing::Length(n)),
        (None, Some(chunked)) => Ok(if chunked {
            Framing::Chunked
        } else {
            Framing::OtherCoding
        }),
        (None, None) => Ok(Framing::Nothing),
    }
}

/// Transfer codings lbd recognizes (and only forwards when `chunked` ends
/// the list alone).
const KNOWN_CODINGS: &[&[u8]] = &[b"gzip", b"x-gzip", b"deflate", b"compress", b"x-compress"];

/// `Some(true)`: exactly `chunked`; `Some(false)`: known codings that lbd
/// does not forward (501); an unknown, empty, parameterized or repeated
/// coding is an error (400).
fn transfer_coding(headers: &HeaderBlock) -> Result<Option<bool>, ProxyError> {
    let mut any = false;
    let mut chunked = 0;
    let mut others = 0;
    let mut last_chunked = false;
    for value in headers.values(b"transfer-encoding") {
        any = true;
        for part in value.split(|&b| b == b',') {
            let coding = trim_ows(part);
            let bad = ProxyError::BadRequest("invalid transfer-encoding");
            if coding.is_empty() || !coding.iter().all(|&b| is_tchar(b)) {
                return Err(bad);
            }
            if coding.eq_ignore_ascii_case(b"chunked") {
                chunked += 1;
                last_chunked = true;
            } else if KNOWN_CODINGS.iter().any(|k| coding.eq_ignore_ascii_case(k)) {
                others += 1;
                last_chunked = false;
            } else {
                return Err(bad);
            }
        }
    }
    if !any {
        return Ok(None);
    }
    if chunked > 1 || (chunked == 1 && !last_chunked) {
        return Err(ProxyError::BadRequest("chunked is not the final coding"));
    }
    Ok(Some(chunked == 1 && others == 0))
}

pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
