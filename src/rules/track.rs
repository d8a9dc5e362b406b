//! What the rules need from stick tables, as two traits.
//!
//! The tables themselves live in `stick`; the data plane hands the rules a
//! `&dyn StickTables` (the registry) and keeps the session's tracked entries
//! in a [`Trackers`] array. Everything here is `&self`: counters are atomics
//! or short locks inside the entry, so fetches with side effects
//! (`sc0_inc_gpc0`) need no `&mut`.

use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::Arc;

use crate::stick::{DataType, TableId};

/// A key to look up or track, already converted to the table's key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickKey<'a> {
    /// `type ip` (IPv4) and `type ipv6` (IPv4 mapped) keys.
    Ip(IpAddr),
    Integer(i64),
    /// String and binary keys, already truncated to the table's `len`.
    Bytes(&'a [u8]),
}

/// One entry of a table, shared by every session tracking it.
pub trait StickEntry: Send + Sync + Debug {
    /// The current value of a stored data type (a rate read at `now_ms`);
    /// `None` when the table does not store it.
    fn read(&self, data: DataType, now_ms: u64) -> Option<u64>;
    /// Increments `gpc<idx>` (and `gpc<idx>_rate`), re-arms the expiry;
    /// returns the new value, `None` when neither is stored.
    fn inc_gpc(&self, idx: u8, now_ms: u64) -> Option<u64>;
    /// Sets `gpc<idx>` to 0; returns the value it had.
    fn clr_gpc(&self, idx: u8, now_ms: u64) -> Option<u64>;
    /// Sets `gpt0`; false when the table does not store it.
    fn set_gpt0(&self, value: u32, now_ms: u64) -> bool;
    /// Called once when a session starts tracking the entry (`track-scN`):
    /// `conn_cnt` +1, `conn_rate` +1, `conn_cur` +1, use count +1, expiry
    /// re-armed (haproxy-cli.md §5.2, §5.4).
    fn start_tracking(&self, now_ms: u64);
    /// Called by the data plane when the session stops tracking the entry:
    /// `conn_cur` -1, use count -1.
    fn stop_tracking(&self, now_ms: u64);
}

/// The stick tables of the running program, by id.
pub trait StickTables: Send + Sync {
    /// The entry for `key` if it exists. Never creates, never re-arms.
    fn lookup(&self, table: TableId, key: StickKey<'_>, now_ms: u64)
    -> Option<Arc<dyn StickEntry>>;
    /// The entry for `key`, created if missing; `None` when the table is full
    /// and cannot evict (`nopurge`).
    fn get_or_create(
        &self,
        table: TableId,
        key: StickKey<'_>,
        now_ms: u64,
    ) -> Option<Arc<dyn StickEntry>>;
    /// Entries in use (`table_cnt`).
    fn used(&self, table: TableId) -> u64;
    /// Declared size (`table_avl` = size - used).
    fn size(&self, table: TableId) -> u64;
}

/// A tracked entry: `sc0`, `sc1` or `sc2` of a session.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub table: TableId,
    pub entry: Arc<dyn StickEntry>,
}

/// The three tracking slots of a session (`sc0`..`sc2`). At most one tracker
/// per slot: a `track-scN` rule on a taken slot does nothing.
pub type Trackers = [Option<Tracker>; 3];

/// Number of tracking slots (HAProxy's default `MAX_SESS_STKCTR`).
pub const TRACKER_SLOTS: usize = 3;
