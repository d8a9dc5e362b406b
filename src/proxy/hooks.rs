//! The evaluation points where the rules engine plugs into a session. Each
//! function is called at the moment HAProxy evaluates the matching rule list;
//! today they let everything through. The lead wires `crate::rules`
//! evaluation here, so the session flow does not change.
//!
//! Order in a session, as in HAProxy:
//! 1. [`tcp_request_connection`] right after accept, before any byte is read;
//! 2. [`tcp_request_content`] before the backend is chosen (tcp mode: at
//!    connection start; http mode: for each request, after the head is read);
//! 3. [`http_request`] after a request head is parsed and validated;
//! 4. [`select_backend`]: `use_backend` rules, then `default_backend`;
//! 5. [`http_response`] after the response head is parsed, before it is sent.

use std::net::SocketAddr;

use crate::compile::program::{Proxy, ProxyId};
use crate::rules::message::{RequestHead, ResponseHead};

/// What a rule list decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the session.
    Continue,
    /// Close the connection silently (`reject`).
    Reject,
    /// Answer this status and stop the request (`deny [deny_status N]`).
    Deny(u16),
}

/// `tcp-request connection` rules of `frontend`.
pub fn tcp_request_connection(_frontend: &Proxy, _client: SocketAddr) -> Verdict {
    Verdict::Continue
}

/// `tcp-request content` rules of `frontend` (and later of the backend).
pub fn tcp_request_content(
    _frontend: &Proxy,
    _client: SocketAddr,
    _request: Option<&RequestHead>,
) -> Verdict {
    Verdict::Continue
}

/// `http-request` rules of `proxy`; they may edit the head.
pub fn http_request(_proxy: &Proxy, _client: SocketAddr, _request: &mut RequestHead) -> Verdict {
    Verdict::Continue
}

/// `http-response` rules of `proxy`; they may edit the head.
pub fn http_response(
    _proxy: &Proxy,
    _request: &RequestHead,
    _response: &mut ResponseHead,
) -> Verdict {
    Verdict::Continue
}

/// The backend for a session or request: the first `use_backend` rule whose
/// condition holds, else `default_backend`, else the proxy itself when it is
/// a `listen`. Conditions are not evaluated yet: a rule with a condition is
/// skipped, a rule without one applies.
pub fn select_backend(frontend: &Proxy, _request: Option<&RequestHead>) -> Option<ProxyId> {
    for rule in &frontend.use_backend {
        if rule.cond.is_none() {
            return Some(rule.backend);
        }
    }
    if let Some(b) = frontend.default_backend {
        return Some(b);
    }
    frontend.cap.backend.then_some(frontend.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::{Mode, UseBackend};
    use crate::proxy::testutil;

    #[test]
    fn backend_selection_order() {
        let mut fe = testutil::listen(0, Mode::Http, Some(testutil::free_addr()), Vec::new());
        fe.cap.backend = false;
        assert_eq!(select_backend(&fe, None), None);
        fe.default_backend = Some(ProxyId(2));
        assert_eq!(select_backend(&fe, None), Some(ProxyId(2)));
        fe.use_backend.push(UseBackend {
            backend: ProxyId(1),
            cond: None,
        });
        assert_eq!(select_backend(&fe, None), Some(ProxyId(1)));
        let mut listen = testutil::listen(3, Mode::Tcp, Some(testutil::free_addr()), Vec::new());
        listen.cap.backend = true;
        assert_eq!(select_backend(&listen, None), Some(ProxyId(3)));
    }
}
