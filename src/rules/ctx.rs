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
