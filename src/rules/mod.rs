//! Sample fetches, converters, matchers, conditions and actions, and their
//! evaluation against a connection or request.
//!
//! `compile` builds the types here from the configuration; the data plane
//! fills a [`ctx::Ctx`] per connection/request and calls the runners of
//! [`ProxyRules`]. Stick tables are the shared `stick::Tables`; a
//! session's tracked entries live in [`ctx::RuleState`].

pub mod action;
pub mod auth;
pub mod conv;
pub mod ctx;
pub mod eval;
pub mod expr;
pub mod fetch;
pub mod logformat;
pub mod message;
pub mod pattern;
pub mod run;
pub mod sample;
pub mod track;

use action::{HttpReqAction, HttpResAction, HttpVerdict, ResVerdict, Rule, TcpAction, TcpVerdict};
use ctx::Ctx;

/// The rule lists of one proxy. Filled by `compile`.
#[derive(Debug, Default)]
pub struct ProxyRules {
    pub tcp_connection: Vec<Rule<TcpAction>>,
    /// `tcp-request inspect-delay`: how long content rules may wait for data.
    pub inspect_delay_ms: Option<u64>,
    pub tcp_content: Vec<Rule<TcpAction>>,
    pub http_request: Vec<Rule<HttpReqAction>>,
    pub http_response: Vec<Rule<HttpResAction>>,
}

impl ProxyRules {
    /// `tcp-request connection` rules, once per accepted connection.
    pub fn run_tcp_connection(&self, ctx: &mut Ctx<'_>) -> TcpVerdict {
        run::run_tcp(&self.tcp_connection, ctx)
    }

    /// `tcp-request content` rules: once per connection in TCP mode, once per
    /// request (stream) in HTTP mode.
    pub fn run_tcp_content(&self, ctx: &mut Ctx<'_>) -> TcpVerdict {
        run::run_tcp(&self.tcp_content, ctx)
    }

    pub fn run_http_request(&self, ctx: &mut Ctx<'_>) -> HttpVerdict {
        run::run_http_request(&self.http_request, ctx)
    }

    pub fn run_http_response(&self, ctx: &mut Ctx<'_>) -> ResVerdict {
        run::run_http_response(&self.http_response, ctx)
    }
}
