//! Cumulative traffic counters of a proxy or a server, as `show stat` reports
//! them. Relaxed atomics: each counter is independent and only ever summed.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::capture::ErrorCapture;
use super::rate::PerSecond;
use super::timing::TimeStats;

/// Counters shared by frontends, backends and servers. Not every field is
/// meaningful for every kind; the unused ones stay 0.
#[derive(Debug, Default)]
pub struct Counters {
    /// Sessions (connections accepted or sent) in total: `stot`.
    pub sessions_total: AtomicU64,
    /// Bytes received from clients: `bin`.
    pub bytes_in: AtomicU64,
    /// Bytes sent to clients: `bout`.
    pub bytes_out: AtomicU64,
    /// Requests denied by rules: `dreq`.
    pub denied_req: AtomicU64,
    /// Responses denied by rules: `dresp`.
    pub denied_resp: AtomicU64,
    /// Request errors: `ereq`.
    pub errors_req: AtomicU64,
    /// Connection errors to servers: `econ`.
    pub errors_conn: AtomicU64,
    /// Response errors: `eresp`.
    pub errors_resp: AtomicU64,
    /// Retries: `wretr`.
    pub retries: AtomicU64,
    /// Redispatches: `wredis`.
    pub redispatches: AtomicU64,
    /// Times the server was chosen by the balancer: `lbtot`.
    pub lb_total: AtomicU64,
    /// HTTP requests: `req_tot`.
    pub http_requests: AtomicU64,
    /// HTTP responses by class 1xx..5xx, then other: `hrsp_*`.
    pub http_responses: [AtomicU64; 6],
    /// Sessions that the client aborted: `cli_abrt`.
    pub client_aborts: AtomicU64,
    /// Sessions that the server aborted: `srv_abrt`.
    pub server_aborts: AtomicU64,
    /// Failed health checks: `chkfail`.
    pub check_failures: AtomicU64,
    /// UP to DOWN transitions: `chkdown`.
    pub check_downs: AtomicU64,
    /// Connections rejected by `tcp-request connection` rules: `dcon`.
    pub denied_conn: AtomicU64,
    /// Sessions rejected by `tcp-request content` rules: `dses`.
    pub denied_sess: AtomicU64,
    /// Sessions open now (`scur`): frontends count accepted client
    /// connections; backends count sessions sent to them.
    pub cur_sessions: AtomicU32,
    /// Highest `cur_sessions` seen (`smax`).
    pub max_sessions: AtomicU32,
    /// Frontend only: `disable frontend` paused its listeners (new
    /// connections are not accepted until `enable frontend`).
    pub paused: AtomicBool,
    /// Sessions per second (`rate`, `rate_max`; `conn_rate` on frontends).
    pub session_rate: PerSecond,
    /// HTTP requests per second (`req_rate`, `req_rate_max`).
    pub request_rate: PerSecond,
    /// Phase times of finished streams (`qtime` ... `ttime_max`); backends
    /// and servers only.
    pub times: TimeStats,
    /// Messages captured for `show errors` on this side, in total.
    pub captured: AtomicU64,
    /// The last captured message: requests on a frontend, responses on a
    /// backend.
    pub last_error: Mutex<Option<Box<ErrorCapture>>>,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts an opened session (`scur`, `smax`, `stot`, `rate`) at
    /// `now_ms` (the process clock, `clock::now_ms()`).
    pub fn session_opened(&self, now_ms: u64) {
        let now = self.cur_sessions.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_sessions.fetch_max(now, Ordering::Relaxed);
        self.sessions_total.fetch_add(1, Ordering::Relaxed);
        self.session_rate.add(now_ms);
    }

    /// Counts an HTTP request (`req_tot`, `req_rate`) at `now_ms`.
    pub fn request_received(&self, now_ms: u64) {
        self.http_requests.fetch_add(1, Ordering::Relaxed);
        self.request_rate.add(now_ms);
    }

    /// Counts a closed session; saturates at zero.
    pub fn session_closed(&self) {
        let closed = self
            .cur_sessions
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1));
        debug_assert!(closed.is_ok() || cfg!(test), "a session was closed twice");
    }

    /// Keeps `capture` as the last error of this side (`show errors`).
    pub fn capture(&self, capture: ErrorCapture) {
        self.captured.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock() = Some(Box::new(capture));
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// `clear counters`: resets the maximums to the current values.
    pub fn clear_max(&self, now_ms: u64) {
        let cur = self.cur_sessions.load(Ordering::Relaxed);
        self.max_sessions.store(cur, Ordering::Relaxed);
        self.session_rate.clear_max(now_ms);
        self.request_rate.clear_max(now_ms);
        self.times.clear_max();
    }

    /// `clear counters all`: every cumulative counter back to zero (current
    /// values such as `scur` stay).
    pub fn clear_all(&self, now_ms: u64) {
        let all = [
            &self.sessions_total,
            &self.bytes_in,
            &self.bytes_out,
            &self.denied_req,
            &self.denied_resp,
            &self.errors_req,
            &self.errors_conn,
            &self.errors_resp,
            &self.retries,
            &self.redispatches,
            &self.lb_total,
            &self.http_requests,
            &self.client_aborts,
            &self.server_aborts,
            &self.check_failures,
            &self.check_downs,
            &self.denied_conn,
            &self.denied_sess,
        ];
        for c in all.into_iter().chain(self.http_responses.iter()) {
            c.store(0, Ordering::Relaxed);
        }
        self.times.clear_all();
        self.clear_max(now_ms);
    }

    /// HTTP responses counted, every class (a server's `cum_req`).
    pub fn responses(&self) -> u64 {
        self.http_responses.iter().map(Counters::read).sum()
    }

    /// Counts an HTTP response under its status class.
    pub fn count_status(&self, status: u16) {
        let class = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        Counters::inc(&self.http_responses[class]);
    }
}
