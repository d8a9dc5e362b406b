//! Sample fetches, converters, matchers, conditions and actions, and their
//! evaluation against a connection or request.
//!
//! `compile` builds the types here from the configuration (see
//! `compile::rules::RuleCompiler`); the data plane runs them:
//!
//! ```text
//! accept:        state = RuleState::new()            // one per connection
//!                ctx = Ctx::new(client, local, &mut state, &tables, now_ms)
//!                frontend.rules.run_tcp_connection(&mut ctx)   Reject → close
//! each stream:   ctx = Ctx::new(..).with_request(&mut req)     (HTTP mode)
//!                frontend.rules.run_tcp_content(&mut ctx)      Reject → close
//!                frontend.rules.run_http_request(&mut ctx)     verdict → answer
//!                backend = expr::select(fe.use_backend.iter()
//!                    .map(|r| (r.backend, r.cond.as_ref())), fe.default_backend, &ctx)
//!                backend.rules.run_tcp_content / run_http_request (same ctx)
//!                ctx = Ctx::new(..).with_request_ref(&req).with_response(&mut res)
//!                backend.rules.run_http_response, then the frontend's
//!                state.end_stream()    // drops content/HTTP trackers, txn vars
//! close:         drop(state)           // drops connection trackers
//! ```
//!
//! Trackers count `conn_cnt`/`conn_rate`/`conn_cur` when they start and give
//! `conn_cur` back when dropped (`track::SessionTracker`). The data plane
//! still counts, on every tracker of the session, `http_req_*` at each
//! request start (before rules run, as HAProxy), `http_err_*`, and
//! `bytes_in_*`/`bytes_out_*` (haproxy-cli.md §5.3).

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
