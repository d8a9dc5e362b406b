//! Responses the `http-request` rules produce themselves: deny, tarpit,
//! redirect, return, auth, and the services (`use-service`), with HAProxy's
//! bytes.

use crate::proxy::conn::Conn;
use tokio::io::AsyncWriteExt;

use super::session::{Next, StreamMeter, linger_close, send_page};
use super::within;
use crate::compile::program::Proxy;
use crate::proxy::ProxyError;
use crate::proxy::shared::{ServicePage, Shared};
use crate::rules::action::HttpVerdict;
use crate::rules::message::RequestHead;
use crate::stats::Counters;

/// What the session does with a verdict of `http-request` rules of `px`
/// (`be` when they are the backend's). `None`: go on with the request.
#[allow(clippy::too_many_arguments)]
pub(super) async fn respond(
    client: &mut Conn,
    shared: &Shared,
    fe: &Proxy,
    px: &Proxy,
    verdict: HttpVerdict,
    close: bool,
    meter: &mut StreamMeter,
) -> Option<Next> {
    let be = (px.id != fe.id).then_some(px);
    let counters = if be.is_some() {
        &px.backend_counters
    } else {
        &px.frontend_counters
    };
    let close = close || shared.is_stopping();
    let bytes = match verdict {
        HttpVerdict::Continue | HttpVerdict::Allow => return None,
        HttpVerdict::Reject => {
            Counters::inc(&counters.denied_req);
            return Some(Next::Close);
        }
        HttpVerdict::Deny(status) => {
            Counters::inc(&counters.denied_req);
            return Some(send_page(client, shared, fe, be, status, close, meter).await);
        }
        HttpVerdict::Tarpit(status) => {
            Counters::inc(&counters.denied_req);
            let wait = px
                .timeouts
                .tarpit_ms
                .or(px.timeouts.connect_ms)
                .unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            return Some(send_page(client, shared, fe, be, status, close, meter).await);
        }
        HttpVerdict::Redirect { code, location } => redirect(code, &location, close),
        HttpVerdict::Return {
            status,
            content_type,
            body,
        } => ret(status, content_type.as_deref(), &body, close),
        HttpVerdict::Auth { realm } => {
            let realm = realm.as_deref().unwrap_or(&px.name).to_string();
            auth(shared, px, &realm, close)
        }
        HttpVerdict::UseService(_) => match &shared.services.render {
            Some(render) => {
                let (content_type, body) = render(ServicePage::Prometheus);
                ret(200, Some(content_type), body.as_bytes(), close)
            }
            None => return Some(send_page(client, shared, fe, be, 503, close, meter).await),
        },
    };
    Some(write(client, fe, bytes, close, meter).await)
}

async fn write(
    client: &mut Conn,
    fe: &Proxy,
    bytes: Vec<u8>,
    close: bool,
    meter: &mut StreamMeter,
) -> Next {
    meter.answered(status_of(&bytes), &bytes);
    fe.frontend_counters.count_status(status_of(&bytes));
    Counters::add(&fe.frontend_counters.bytes_out, bytes.len() as u64);
    let written = within(fe.timeouts.client_ms, ProxyError::ClientTimeout, async {
        client
            .write_all(&bytes)
            .await
            .map_err(|_| ProxyError::ClientIo)
    })
    .await;
    if written.is_err() {
        return Next::Close;
    }
    if close {
        linger_close(client).await;
        return Next::Close;
    }
    Next::KeepAlive
}

/// The status code of a response we built (its bytes 9..12).
fn status_of(bytes: &[u8]) -> u16 {
    bytes
        .get(9..12)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

fn head(status: u16, close: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    if close {
        // Added last, before the blank line, as HAProxy's message layer does.
        out.reserve(19);
    }
    out
}

fn end_head(out: &mut Vec<u8>, close: bool) {
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// `redirect`: `302 Found` with an empty body and `cache-control: no-cache`.
fn redirect(code: u16, location: &[u8], close: bool) -> Vec<u8> {
    let mut out = head(code, close);
    out.extend_from_slice(b"content-length: 0\r\nlocation: ");
    out.extend_from_slice(location);
    out.extend_from_slice(b"\r\ncache-control: no-cache\r\n");
    end_head(&mut out, close);
    out
}

/// `return status N [content-type T] [string S | file F]`.
fn ret(status: u16, content_type: Option<&str>, body: &[u8], close: bool) -> Vec<u8> {
    let mut out = head(status, close);
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    if let Some(t) = content_type {
        out.extend_from_slice(format!("content-type: {t}\r\n").as_bytes());
    }
    end_head(&mut out, close);
    out.extend_from_slice(body);
    out
}

/// `auth`: the 401 page (or the proxy's errorfile) with the challenge.
fn auth(shared: &Shared, px: &Proxy, realm: &str, close: bool) -> Vec<u8> {
    let page = shared.pages.page(Some(px.id), 401, close);
    let challenge = format!("www-authenticate: Basic realm=\"{realm}\"\r\n");
    let split = page
        .bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(page.bytes.len(), |i| i + 2);
    let mut out = Vec::with_capacity(page.bytes.len() + challenge.len());
    out.extend_from_slice(&page.bytes[..split]);
    out.extend_from_slice(challenge.as_bytes());
    out.extend_from_slice(&page.bytes[split..]);
    out
}

/// Reason phrases as HAProxy writes them.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Payload Too Large",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `stats uri`: when the request is for the stats page of `px`, answers it
/// (after checking `stats auth`). `None`: not a stats request.
pub(super) async fn stats_page(
    client: &mut Conn,
    shared: &Shared,
    fe: &Proxy,
    px: &Proxy,
    req: &RequestHead,
    close: bool,
    meter: &mut StreamMeter,
) -> Option<Next> {
    let page = px.stats_page.as_ref()?;
    if !req.uri().starts_with(page.uri.as_bytes()) {
        return None;
    }
    let close = close || shared.is_stopping();
    if !page.auth.is_empty() && !authorized(req, &page.auth) {
        let realm = page.realm.as_deref().unwrap_or("HAProxy Statistics");
        let bytes = auth(shared, px, realm, close);
        return Some(write(client, fe, bytes, close, meter).await);
    }
    let Some(render) = &shared.services.render else {
        return Some(send_page(client, shared, fe, Some(px), 503, close, meter).await);
    };
    let csv = req.uri()[page.uri.len()..].starts_with(b";csv");
    let which = if csv {
        ServicePage::Csv
    } else {
        ServicePage::Html {
            refresh_s: page.refresh_ms.map(|ms| ms.div_ceil(1000)),
        }
    };
    let (content_type, body) = render(which);
    let bytes = ret(200, Some(content_type), body.as_bytes(), close);
    Some(write(client, fe, bytes, close, meter).await)
}

/// Whether the request carries one of the `user:password` pairs as Basic
/// credentials.
fn authorized(req: &RequestHead, users: &[(String, String)]) -> bool {
    let Some(value) = req.headers.first(b"authorization") else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix(b"Basic ")
        .or_else(|| value.strip_prefix(b"basic "))
    else {
        return false;
    };
    let Some(decoded) = decode_base64(encoded.trim_ascii()) else {
        return false;
    };
    users.iter().any(|(user, pass)| {
        decoded.len() == user.len() + 1 + pass.len()
            && decoded.starts_with(user.as_bytes())
            && decoded[user.len()] == b':'
            && decoded.ends_with(pass.as_bytes())
    })
}

/// Standard base64 (with padding) → bytes; `None` when malformed.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_responses_match_haproxy() {
        assert_eq!(
            redirect(302, b"/new", false),
            b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n\r\n"
        );
        assert_eq!(
            ret(200, Some("text/plain"), b"Hello\n", false),
            b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\nHello\n"
        );
        assert_eq!(
            ret(404, None, b"", false),
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(status_of(b"HTTP/1.1 429 Too Many Requests\r\n"), 429);
        assert_eq!(
            decode_base64(b"YWRtaW46c2VjcmV0"),
            Some(b"admin:secret".to_vec())
        );
        assert_eq!(decode_base64(b"YQ=="), Some(b"a".to_vec()));
        assert_eq!(decode_base64(b"Y!=="), None);
    }
}
