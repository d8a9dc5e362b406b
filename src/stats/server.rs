//! Live state of one server, shared by every worker, the health checker and
//! the runtime API. Everything is an atomic: readers never lock.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

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
