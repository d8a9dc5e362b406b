//! Live state of one server, shared by every worker, the health checker and
//! the runtime API. Everything is an atomic: readers never lock.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use parking_lot::RwLock;

use super::counters::Counters;

/// The administrative state an operator sets (`set server ... state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AdminState {
    /// Takes traffic.
    Ready = 0,
    /// Takes no new traffic except persistent sessions; health checks go on.
    Drain = 1,
    /// Maintenance: no traffic, no health checks.
    Maint = 2,
}

/// The operational state health checks decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpState {
    Down = 0,
    Up = 1,
}

/// Live state of one server.
#[derive(Debug)]
pub struct ServerState {
    /// The weight given in the configuration (`initial` in `get weight`).
    pub initial_weight: u32,
    /// The weight in force now (changed by `set weight`).
    weight: AtomicU32,
    admin: AtomicU8,
    op: AtomicU8,
    /// Consecutive check results counted towards `rise` (up) or `fall` (down):
    /// HAProxy's `check_health`.
    pub check_health: AtomicU32,
    /// Connections currently established to the server.
    pub cur_conns: AtomicU32,
    /// Highest `cur_conns` seen.
    pub max_conns: AtomicU32,
    /// Requests waiting in the backend queue for this server.
    pub queued: AtomicU32,
    /// Milliseconds (process clock) of the last state change.
    pub last_change_ms: AtomicU64,
    pub counters: Counters,
    /// The last health check's result, for `show stat` and `show servers state`.
    pub check: CheckResult,
    /// `set server <b>/<s> addr`: the address that replaces the configured
    /// one for new connections (`None` = as configured). Read once per
    /// connection by the data plane.
    pub addr_override: RwLock<Option<SocketAddr>>,
    /// Bumped by `shutdown sessions server`: a session established under an
    /// older generation closes at its next I/O event.
    pub shutdown_gen: AtomicU32,
}

/// HAProxy's health-check status codes (`HCHK_STATUS_*`), as `show servers
/// state` prints them; `show stat` prints [`CheckStatus::as_keyword`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CheckStatus {
    /// No check has run yet (or the server has no `check`).
    Unknown = 0,
    /// Layer 4 connection refused, reset or unreachable.
    L4Con = 8,
    /// Layer 4 timeout.
    L4Tout = 7,
    /// Layer 6 (TLS) failure.
    L6Rsp = 11,
    /// Layer 7 answered as expected.
    L7Ok = 15,
    /// Layer 7 timeout.
    L7Tout = 12,
    /// Layer 7 answered something unexpected.
    L7Sts = 17,
    /// Layer 7 malformed response.
    L7Rsp = 13,
    /// Layer 4 (TCP connect) check passed.
    L4Ok = 6,
}

impl CheckStatus {
    /// The `check_status` column text.
    pub fn as_keyword(self) -> &'static str {
        match self {
            CheckStatus::Unknown => "UNK",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L4Tout => "L4TOUT",
            CheckStatus::L6Rsp => "L6RSP",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Tout => "L7TOUT",
            CheckStatus::L7Sts => "L7STS",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L4Ok => "L4OK",
        }
    }

    /// The `check_desc` column text.
    pub fn description(self) -> &'static str {
        match self {
            CheckStatus::Unknown => "Unknown",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L4Tout => "Layer4 timeout",
            CheckStatus::L6Rsp => "Layer6 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Tout => "Layer7 timeout",
            CheckStatus::L7Sts => "Layer7 wrong status",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L4Ok => "Layer4 check passed",
        }
    }

    /// Whether the check passed.
    pub fn passed(self) -> bool {
        matches!(self, CheckStatus::L7Ok | CheckStatus::L4Ok)
    }

    fn from_code(code: u8) -> CheckStatus {
        [
            CheckStatus::L4Con,
            CheckStatus::L4Tout,
            CheckStatus::L6Rsp,
            CheckStatus::L7Ok,
            CheckStatus::L7Tout,
            CheckStatus::L7Sts,
            CheckStatus::L7Rsp,
            CheckStatus::L4Ok,
        ]
        .into_iter()
        .find(|s| *s as u8 == code)
        .unwrap_or(CheckStatus::Unknown)
    }
}

/// The last health check of a server: written by the checker, read by the
/// runtime API.
#[derive(Debug, Default)]
pub struct CheckResult {
    status: AtomicU8,
    /// HTTP status of an HTTP check (0 = none).
    pub code: AtomicU32,
    pub duration_ms: AtomicU32,
}

impl CheckResult {
    pub fn status(&self) -> CheckStatus {
        CheckStatus::from_code(self.status.load(Ordering::Relaxed))
    }

    /// Records one finished check.
    pub fn record(&self, status: CheckStatus, http_code: u16, duration_ms: u32) {
        self.status.store(status as u8, Ordering::Relaxed);
        self.code.store(u32::from(http_code), Ordering::Relaxed);
        self.duration_ms.store(duration_ms, Ordering::Relaxed);
    }
}

impl ServerState {
    /// A server as the configuration declares it: `disabled` starts in
    /// maintenance; a checked server starts up (as HAProxy does) and goes down
    /// after `fall` failed checks.
    pub fn new(initial_weight: u32, disabled: bool) -> ServerState {
        let admin = if disabled {
            AdminState::Maint
        } else {
            AdminState::Ready
        };
        ServerState {
            initial_weight,
            weight: AtomicU32::new(initial_weight),
            admin: AtomicU8::new(admin as u8),
            op: AtomicU8::new(OpState::Up as u8),
            check_health: AtomicU32::new(0),
            cur_conns: AtomicU32::new(0),
            max_conns: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            last_change_ms: AtomicU64::new(0),
            counters: Counters::default(),
            check: CheckResult::default(),
            addr_override: RwLock::new(None),
            shutdown_gen: AtomicU32::new(0),
        }
    }

    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    pub fn set_weight(&self, weight: u32) {
        self.weight.store(weight, Ordering::Relaxed);
    }

    pub fn admin(&self) -> AdminState {
        match self.admin.load(Ordering::Relaxed) {
            1 => AdminState::Drain,
            2 => AdminState::Maint,
            _ => AdminState::Ready,
        }
    }

    pub fn set_admin(&self, state: AdminState, now_ms: u64) {
        if self.admin.swap(state as u8, Ordering::Relaxed) != state as u8 {
            self.last_change_ms.store(now_ms, Ordering::Relaxed);
        }
    }

    pub fn op(&self) -> OpState {
        if self.op.load(Ordering::Relaxed) == OpState::Up as u8 {
            OpState::Up
        } else {
            OpState::Down
        }
    }

    pub fn set_op(&self, state: OpState, now_ms: u64) {
        if self.op.swap(state as u8, Ordering::Relaxed) != state as u8 {
            self.last_change_ms.store(now_ms, Ordering::Relaxed);
        }
    }

    /// Whether the balancer may send new traffic here: ready, up, weight > 0.
    pub fn is_usable(&self) -> bool {
        self.admin() == AdminState::Ready && self.op() == OpState::Up && self.weight() > 0
    }

    /// The address new connections go to: the configured one unless the
    /// runtime API changed it.
    pub fn addr(&self, configured: SocketAddr) -> SocketAddr {
        self.addr_override.read().unwrap_or(configured)
    }

    /// `shutdown sessions server`: sessions that saw an older generation
    /// must close.
    pub fn shutdown_sessions(&self) {
        self.shutdown_gen.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a new connection and returns the new current count.
    pub fn conn_opened(&self) -> u32 {
        let now = self.cur_conns.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_conns.fetch_max(now, Ordering::Relaxed);
        now
    }

    pub fn conn_closed(&self) {
        // Saturate rather than wrap if a close is ever counted twice.
        let closed = self
            .cur_conns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1));
        debug_assert!(
            closed.is_ok() || cfg!(test),
            "a connection was closed twice"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_server_starts_in_maintenance_and_is_not_usable() {
        let s = ServerState::new(10, true);
        assert_eq!(s.admin(), AdminState::Maint);
        assert!(!s.is_usable());
        s.set_admin(AdminState::Ready, 5);
        assert!(s.is_usable());
        assert_eq!(s.last_change_ms.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn zero_weight_is_not_usable() {
        let s = ServerState::new(10, false);
        s.set_weight(0);
        assert!(!s.is_usable());
    }

    #[test]
    fn connection_counts_track_the_maximum_and_never_wrap() {
        let s = ServerState::new(1, false);
        s.conn_opened();
        s.conn_opened();
        s.conn_closed();
        s.conn_closed();
        s.conn_closed();
        assert_eq!(s.cur_conns.load(Ordering::Relaxed), 0);
        assert_eq!(s.max_conns.load(Ordering::Relaxed), 2);
    }
}
