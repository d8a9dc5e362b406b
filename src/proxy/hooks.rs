//! The evaluation points where the rules engine meets a session. Each
//! function is called at the moment HAProxy evaluates the matching rule
//! list, with the session's [`RuleEnv`].
//!
//! Order in a session, as in HAProxy:
//! 1. [`tcp_request_connection`] right after accept, before any byte is read;
//! 2. [`tcp_request_content`] of the frontend (tcp mode: at connection start;
//!    http mode: for each request, after the head is read);
//! 3. [`http_request`] of the frontend, after the head is parsed;
//! 4. [`select_backend`]: `use_backend` rules, then `default_backend`;
//! 5. the backend's `tcp-request content` and `http-request` rules;
//! 6. [`http_response`] (backend, then frontend) after the response head;
//! 7. [`stream_end`]: byte and error counters of the tracked entries, and the
//!    trackers of content and HTTP rules are released.

use std::net::SocketAddr;

use parking_lot::Mutex;

use crate::compile::program::{Proxy, ProxyId};
use crate::rules::action::{HttpVerdict, ResVerdict, TcpVerdict};
use crate::rules::ctx::{Ctx, RuleState};
use crate::rules::expr;
use crate::rules::message::{HeaderBlock, RequestHead, ResponseHead};
use crate::stick::{DataType, Tables};

/// What a tcp-level or response rule list decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the session.
    Continue,
    /// Close the connection silently (`reject`).
    Reject,
    /// Answer this status and stop the request (`deny [deny_status N]`):
    /// the proxy's errorfile or HAProxy's page.
    Deny(u16),
}

/// A session's view of the rules: its state (trackers, variables), the
/// program's stick tables and the two addresses. The state sits behind a
/// per-session lock that is only held while rules run, never across I/O.
#[derive(Clone, Copy)]
pub struct RuleEnv<'a> {
    pub state: &'a Mutex<RuleState>,
    pub tables: &'a Tables,
    pub client: SocketAddr,
    pub local: SocketAddr,
}

impl RuleEnv<'_> {
    /// Runs `f` on a context over the session's state, locked for the call.
    fn run<R>(&self, f: impl FnOnce(Ctx<'_>) -> R) -> R {
        let mut state = self.state.lock();
        let ctx = Ctx::new(
            self.client,
            self.local,
            &mut state,
            self.tables,
            crate::clock::now_ms(),
        );
        f(ctx)
    }

    /// Adds `n` to `data_type` of every entry the session tracks.
    fn add_to_tracked(&self, data_types: &[DataType], n: u64) {
        let now = crate::clock::now_ms();
        let state = self.state.lock();
        for tracker in state.trackers.iter().flatten() {
            let entry = tracker.entry();
            for &dt in data_types {
                // `false` only when the table does not store the type.
                let _stored: bool = entry.add(dt, n, now);
            }
        }
    }
}

/// `tcp-request connection` rules of `frontend`.
pub fn tcp_request_connection(frontend: &Proxy, env: RuleEnv<'_>) -> Verdict {
    if frontend.rules.tcp_connection.is_empty() {
        return Verdict::Continue;
    }
    tcp_verdict(env.run(|mut ctx| frontend.rules.run_tcp_connection(&mut ctx)))
}

/// `tcp-request content` rules of `proxy` (frontend, then backend).
pub fn tcp_request_content(
    proxy: &Proxy,
    env: RuleEnv<'_>,
    request: Option<&RequestHead>,
) -> Verdict {
    if proxy.rules.tcp_content.is_empty() {
        return Verdict::Continue;
    }
    tcp_verdict(env.run(|ctx| {
        let mut ctx = match request {
            Some(req) => ctx.with_request_ref(req),
            None => ctx,
        };
        proxy.rules.run_tcp_content(&mut ctx)
    }))
}

fn tcp_verdict(v: TcpVerdict) -> Verdict {
    match v {
        TcpVerdict::Reject => Verdict::Reject,
        TcpVerdict::Continue | TcpVerdict::Accept => Verdict::Continue,
    }
}

/// `http-request` rules of `proxy`; they may edit the head.
pub fn http_request(proxy: &Proxy, env: RuleEnv<'_>, request: &mut RequestHead) -> HttpVerdict {
    if proxy.rules.http_request.is_empty() {
        return HttpVerdict::Continue;
    }
    env.run(|ctx| proxy.rules.run_http_request(&mut ctx.with_request(request)))
}

/// `http-response` rules of `proxy`; they may edit the head.
pub fn http_response(
    proxy: &Proxy,
    env: RuleEnv<'_>,
    request: &RequestHead,
    response: &mut ResponseHead,
) -> Verdict {
    if proxy.rules.http_response.is_empty() {
        return Verdict::Continue;
    }
    let verdict = env.run(|ctx| {
        let mut ctx = ctx.with_request_ref(request).with_response(response);
        proxy.rules.run_http_response(&mut ctx)
    });
    match verdict {
        ResVerdict::Deny(status) => Verdict::Deny(status),
        ResVerdict::Continue | ResVerdict::Allow => Verdict::Continue,
    }
}

/// The backend for a session or request: the first `use_backend` rule whose
/// condition holds, else `default_backend`, else the proxy itself when it is
/// a `listen`.
pub fn select_backend(
    frontend: &Proxy,
    env: RuleEnv<'_>,
    request: Option<&RequestHead>,
) -> Option<ProxyId> {
    let default = frontend
        .default_backend
        .or(frontend.cap.backend.then_some(frontend.id));
    if frontend.use_backend.is_empty() {
        return default;
    }
    let rules = frontend
        .use_backend
        .iter()
        .map(|r| (r.backend, r.cond.as_ref()));
    env.run(|ctx| {
        let ctx = match request {
            Some(req) => ctx.with_request_ref(req),
            None => ctx,
        };
        expr::select(rules, default, &ctx)
    })
}

/// The connection passed the `tcp-request connection` rules and becomes a
/// session: the entries tracked so far count it (`sess_cnt`, `sess_rate`).
pub fn session_accepted(env: RuleEnv<'_>) {
    env.add_to_tracked(&[DataType::SessCnt, DataType::SessRate], 1);
}

/// A new HTTP request on the connection: the tracked entries count it before
/// any rule runs, as HAProxy does.
pub fn request_started(env: RuleEnv<'_>) {
    env.add_to_tracked(&[DataType::HttpReqCnt, DataType::HttpReqRate], 1);
}

/// The end of a stream (an HTTP request and its response, or a tcp
/// session): bytes in both directions and HTTP errors go to every tracked
/// entry, then the trackers of content and HTTP rules are released.
/// `bytes_in`/`bytes_out` are counted as HAProxy counts them (see
/// [`message_size`]); `status` is the response status, if any.
pub fn stream_end(env: RuleEnv<'_>, bytes_in: u64, bytes_out: u64, status: Option<u16>) {
    env.add_to_tracked(&[DataType::BytesInCnt, DataType::BytesInRate], bytes_in);
    env.add_to_tracked(&[DataType::BytesOutCnt, DataType::BytesOutRate], bytes_out);
    if status.is_some_and(|s| (400..500).contains(&s)) {
        env.add_to_tracked(&[DataType::HttpErrCnt, DataType::HttpErrRate], 1);
    }
    env.state.lock().end_stream();
}

/// The size HAProxy counts for a message head in `bytes_in`/`bytes_out`: its
/// internal form, 20 bytes plus the start line's three words plus every
/// header's name and value, plus one (haproxy-cli.md §5.3).
pub fn message_size(start_line: [&[u8]; 3], headers: &HeaderBlock) -> u64 {
    let line: usize = start_line.iter().map(|w| w.len()).sum();
    (20 + line + headers.content_len() + 1) as u64
}

/// [`message_size`] of a request head.
pub fn request_size(req: &RequestHead) -> u64 {
    message_size(
        [req.method(), req.uri(), req.version.as_bytes()],
        &req.headers,
    )
}

/// [`message_size`] of a response head.
pub fn response_size(res: &ResponseHead) -> u64 {
    let mut code = [0u8; 3];
    let mut s = res.status.min(999);
    for digit in code.iter_mut().rev() {
        *digit = b'0' + (s % 10) as u8;
        s /= 10;
    }
    message_size([res.version.as_bytes(), &code, res.reason()], &res.headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::message::Version;

    #[test]
    fn request_size_matches_haproxy_accounting() {
        // curl's three default headers: HAProxy counted 82 (haproxy-cli.md §5.3).
        let mut req = RequestHead::new();
        req.set_line(b"GET", b"/", Version::Http11);
        req.headers.push(b"Host", b"127.0.0.1:21070");
        req.headers.push(b"User-Agent", b"curl/7.88.1");
        req.headers.push(b"Accept", b"*/*");
        assert_eq!(request_size(&req), 82);
        req.headers.push(b"X-An", b"v");
        assert_eq!(request_size(&req), 87);
    }
}
