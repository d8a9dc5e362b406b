//! Compiled rule actions and the verdicts rule lists return.

use std::sync::Arc;

use regex::bytes::Regex;

use super::expr::{Cond, SampleExpr};
use super::logformat::LogFormat;
use super::track::TrackCount;
use crate::stick::{KeyType, TableId};

/// One rule: an action and its optional condition.
#[derive(Debug)]
pub struct Rule<A> {
    pub action: A,
    pub cond: Option<Cond>,
}

/// `track-scN <key> [table T]`.
#[derive(Debug, Clone)]
pub struct Track {
    pub slot: u8,
    pub key: SampleExpr,
    pub table: TableId,
    pub key_type: KeyType,
    pub count: TrackCount,
}

/// Actions on tracked counters shared by every rule set.
#[derive(Debug, Clone)]
pub enum CounterAction {
    Track(Track),
    /// `sc-inc-gpc0(N)` / `sc-inc-gpc1(N)`.
    IncGpc {
        slot: u8,
        idx: u8,
    },
    /// `sc-set-gpt0(N) <value>`.
    SetGpt0 {
        slot: u8,
        value: SampleExpr,
    },
}

/// `tcp-request connection|content` actions.
#[derive(Debug, Clone)]
pub enum TcpAction {
    Accept,
    Reject,
    Counter(CounterAction),
}

/// What `tcp-request` rules decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpVerdict {
    /// No rule decided: go on (an implicit accept at the end of the list).
    Continue,
    Accept,
    Reject,
}

/// `http-request redirect` forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

#[derive(Debug, Clone)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: LogFormat,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
}

/// A header edit usable in both directions.
#[derive(Debug, Clone)]
pub enum HeaderEdit {
    Set {
        name: Box<[u8]>,
        value: LogFormat,
    },
    Add {
        name: Box<[u8]>,
        value: LogFormat,
    },
    Del {
        name: Box<[u8]>,
    },
    /// `replace-header <name> <regex> <replace-fmt>`: `\N` in the expanded
    /// replacement refers to capture N.
    Replace {
        name: Box<[u8]>,
        regex: Regex,
        replace: LogFormat,
    },
}

/// Services `use-service` can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    PrometheusExporter,
}

/// `http-request` actions.
#[derive(Debug, Clone)]
pub enum HttpReqAction {
    Allow,
    /// Close the connection without a response.
    Reject,
    Deny {
        status: u16,
    },
    Tarpit {
        status: u16,
    },
    Redirect(Redirect),
    Header(HeaderEdit),
    SetPath(LogFormat),
    SetVar {
        name: Box<str>,
        expr: SampleExpr,
    },
    Return {
        status: u16,
        content_type: Option<Arc<str>>,
        body: Arc<[u8]>,
    },
    Auth {
        realm: Option<Arc<str>>,
    },
    Counter(CounterAction),
    UseService(Service),
}

/// What `http-request` rules decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpVerdict {
    Continue,
    Allow,
    /// Close the client connection without answering.
    Reject,
    Deny(u16),
    Tarpit(u16),
    Redirect {
        code: u16,
        location: Vec<u8>,
    },
    Return {
        status: u16,
        content_type: Option<Arc<str>>,
        body: Arc<[u8]>,
    },
    /// Answer 401 with `WWW-Authenticate: Basic realm="..."` (the proxy's
    /// name when no realm is given).
    Auth {
        realm: Option<Arc<str>>,
    },
    UseService(Service),
}

/// `http-response` actions.
#[derive(Debug, Clone)]
pub enum HttpResAction {
    Allow,
    Deny { status: u16 },
    Header(HeaderEdit),
    SetVar { name: Box<str>, expr: SampleExpr },
    Counter(CounterAction),
}

/// What `http-response` rules decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResVerdict {
    Continue,
    Allow,
    Deny(u16),
}
