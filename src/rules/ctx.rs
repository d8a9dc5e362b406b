//! The context rules are evaluated against: one connection, and the request
//! or response being processed.

use std::net::SocketAddr;

use super::message::{RequestHead, ResponseHead};
use super::sample::Sample;
use super::track::Trackers;
use crate::stick::Tables;

/// What a session keeps between rule runs: its trackers, its variables and a
/// scratch buffer reused for log-format expansion. The data plane owns one
/// per session (and resets the `txn` variables per request).
#[derive(Debug, Default)]
pub struct RuleState {
    pub trackers: Trackers,
    pub vars: Vars,
    pub(crate) scratch: Vec<u8>,
    /// What the TLS handshake of the client connection said (`ssl_fc*`,
    /// `ssl_c_*`); `None` on a connection not deciphered by lbd.
    pub tls: Option<TlsFacts>,
    /// The server name of a ClientHello seen in the request buffer
    /// (`req.ssl_sni`), when the session peeked one before its content rules.
    pub req_ssl_sni: Option<Box<str>>,
}

/// The facts of a finished TLS handshake on the client side, as the rules
/// read them. The data plane fills it from the TLS layer's own record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFacts {
    /// `ssl_fc_sni`.
    pub sni: Option<Box<str>>,
    /// `ssl_fc_protocol`: `TLSv1.2`, `TLSv1.3`.
    pub protocol: Option<&'static str>,
    /// `ssl_fc_alpn`.
    pub alpn: Option<Box<[u8]>>,
    /// `ssl_fc_cipher` (OpenSSL's name).
    pub cipher: Option<&'static str>,
    /// `ssl_c_used`.
    pub client_cert_used: bool,
    /// `ssl_c_verify`: the verify result, 0 when fine.
    pub client_verify: i64,
    /// The client certificate's subject, in certificate order, as
    /// (short name or dotted OID, value) pairs (`ssl_c_s_dn`).
    pub client_subject: Vec<(Box<str>, Box<str>)>,
}

impl TlsFacts {
    /// `ssl_c_s_dn` without an entry: the whole subject, OpenSSL's one-line
    /// form (`/C=FR/CN=client`) or, with `rfc2253`, the LDAP form, last
    /// entry first (`CN=client,C=FR`).
    pub fn subject_dn(&self, rfc2253: bool) -> Option<String> {
        if !self.client_cert_used {
            return None;
        }
        let mut dn = String::new();
        if rfc2253 {
            for (i, (name, value)) in self.client_subject.iter().rev().enumerate() {
                if i > 0 {
                    dn.push(',');
                }
                dn.push_str(name);
                dn.push('=');
                escape_rfc2253(value, &mut dn);
            }
        } else {
            for (name, value) in &self.client_subject {
                dn.push('/');
                dn.push_str(name);
                dn.push('=');
                dn.push_str(value);
            }
        }
        Some(dn)
    }

    /// `ssl_c_s_dn(<entry>[,<occ>])`: the value of the `occ`-th entry named
    /// `entry` (short name, exact case), counted from 1 at the start or from
    /// -1 at the end. A missing occurrence is 1; 0 finds nothing, as in
    /// HAProxy.
    pub fn subject_entry(&self, entry: &str, occ: i64) -> Option<&str> {
        if !self.client_cert_used {
            return None;
        }
        let mut matching = self
            .client_subject
            .iter()
            .filter(|(n, _)| &**n == entry)
            .map(|(_, v)| &**v);
        if occ > 0 {
            matching.nth(usize::try_from(occ - 1).ok()?)
        } else if occ == 0 {
            None
        } else {
            let back = usize::try_from(occ.unsigned_abs()).ok()?;
            let all: Vec<&str> = matching.collect();
            all.len()
                .checked_sub(back)
                .and_then(|i| all.get(i).copied())
        }
    }
}

/// Escapes an attribute value as RFC 2253 section 2.4 asks.
fn escape_rfc2253(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

impl RuleState {
    pub fn new() -> RuleState {
        RuleState::default()
    }

    /// Ends one stream (one HTTP request, or the TCP connection): drops the
    /// trackers set by content and HTTP rules (counting `conn_cur` down) and
    /// forgets the `txn`, `req` and `res` variables. Connection trackers and
    /// `sess` variables stay.
    pub fn end_stream(&mut self) {
        for slot in self.trackers.iter_mut() {
            if slot.as_ref().is_some_and(|t| t.is_stream_level()) {
                *slot = None;
            }
        }
        for scope in ["txn", "req", "res"] {
            self.vars.clear_scope(scope);
        }
    }
}

/// Variables set by `set-var(<scope>.<name>)`, keyed by their full name.
#[derive(Debug, Default)]
pub struct Vars {
    entries: Vec<(Box<str>, Sample<'static>)>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Sample<'static>> {
        self.entries
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    pub fn set(&mut self, name: &str, value: Sample<'static>) {
        match self.entries.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name.into(), value)),
        }
    }

    /// Forgets every variable of a scope (`txn` at the end of a request).
    pub fn clear_scope(&mut self, scope: &str) {
        self.entries
            .retain(|(n, _)| n.split_once('.').map(|(s, _)| s) != Some(scope));
    }
}

/// A message head the rules may read, and edit when lent mutably.
#[derive(Debug, Default)]
pub enum Head<'a, T> {
    #[default]
    Absent,
    /// Readable only: edits are skipped (a request seen from response rules).
    Shared(&'a T),
    Mut(&'a mut T),
}

impl<T> Head<'_, T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Head::Absent => None,
            Head::Shared(h) => Some(h),
            Head::Mut(h) => Some(h),
        }
    }

    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Head::Mut(h) => Some(h),
            _ => None,
        }
    }

    pub fn is_some(&self) -> bool {
        !matches!(self, Head::Absent)
    }
}

/// Everything a fetch or an action may look at or change.
pub struct Ctx<'a> {
    /// The client's address (`src`, `src_port`).
    pub client: SocketAddr,
    /// The local address the client connected to (`dst`, `dst_port`).
    pub local: SocketAddr,
    /// The request head, in `tcp-request content` (HTTP mode), `http-request`
    /// and `http-response` rules.
    pub req: Head<'a, RequestHead>,
    /// The response head, in `http-response` rules.
    pub res: Head<'a, ResponseHead>,
    pub state: &'a mut RuleState,
    pub tables: &'a Tables,
    /// The worker's coarse clock.
    pub now_ms: u64,
}

impl<'a> Ctx<'a> {
    /// A context for connection-level rules (no HTTP message yet).
    pub fn new(
        client: SocketAddr,
        local: SocketAddr,
        state: &'a mut RuleState,
        tables: &'a Tables,
        now_ms: u64,
    ) -> Ctx<'a> {
        Ctx {
            client,
            local,
            req: Head::Absent,
            res: Head::Absent,
            state,
            tables,
            now_ms,
        }
    }

    /// The request, editable (`http-request` rules).
    pub fn with_request(mut self, req: &'a mut RequestHead) -> Ctx<'a> {
        self.req = Head::Mut(req);
        self
    }

    /// The request, read-only (`tcp-request content`, `http-response`).
    pub fn with_request_ref(mut self, req: &'a RequestHead) -> Ctx<'a> {
        self.req = Head::Shared(req);
        self
    }

    /// The response, editable (`http-response` rules).
    pub fn with_response(mut self, res: &'a mut ResponseHead) -> Ctx<'a> {
        self.res = Head::Mut(res);
        self
    }

    pub fn request(&self) -> Option<&RequestHead> {
        self.req.get()
    }

    pub fn response(&self) -> Option<&ResponseHead> {
        self.res.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(subject: &[(&str, &str)]) -> TlsFacts {
        TlsFacts {
            client_cert_used: true,
            client_subject: subject
                .iter()
                .map(|(n, v)| ((*n).into(), (*v).into()))
                .collect(),
            ..TlsFacts::default()
        }
    }

    #[test]
    fn subject_dn_in_both_forms() {
        let f = facts(&[("C", "FR"), ("O", "Acme, Inc"), ("CN", " client ")]);
        assert_eq!(
            f.subject_dn(false).as_deref(),
            Some("/C=FR/O=Acme, Inc/CN= client ")
        );
        assert_eq!(
            f.subject_dn(true).as_deref(),
            Some("CN=\\ client\\ ,O=Acme\\, Inc,C=FR")
        );
        assert_eq!(TlsFacts::default().subject_dn(false), None);
    }

    #[test]
    fn subject_entry_counts_from_either_end() {
        let f = facts(&[("OU", "one"), ("CN", "x"), ("OU", "two"), ("OU", "three")]);
        assert_eq!(f.subject_entry("OU", 1), Some("one"));
        assert_eq!(f.subject_entry("OU", 2), Some("two"));
        assert_eq!(f.subject_entry("OU", -1), Some("three"));
        assert_eq!(f.subject_entry("OU", -3), Some("one"));
        assert_eq!(f.subject_entry("OU", -4), None);
        assert_eq!(f.subject_entry("OU", 4), None);
        assert_eq!(f.subject_entry("OU", 0), None);
        assert_eq!(f.subject_entry("cn", 1), None);
        assert_eq!(f.subject_entry("CN", 1), Some("x"));
    }
}
