//! Access to one entry: [`EntryMut`] (the entry with its shard locked: all
//! data operations), [`EntryRef`] (a borrowed, unpinned handle) and
//! [`Tracker`] (an owned handle that pins the entry while a session tracks
//! it).
//!
//! A handle is `(shard, key hash, entry id)`. Each handle operation takes
//! the shard lock, finds the entry again by probing from its hash (rows
//! move, see shard.rs) and does a few loads and stores: an [`EntryRef`]
//! whose entry was evicted, expired or cleared since finds nothing, reads
//! as `None` and ignores writes. A [`Tracker`]'s entry cannot go away (a use
//! count above 0 blocks eviction, expiry and `clear table`). Several
//! operations can share one lock with [`EntryRef::with_locked`] or
//! [`Table::touch_with`].
//!
//! Every write re-arms the entry's expiry when the type is stored, as
//! HAProxy does after updating a tracked counter (§5.4). No operation
//! allocates.

use std::sync::Arc;

use super::data::{self, Field};
use super::key::Key;
use super::shard::{Handle, MetaMut};
use super::spec::DataType;
use super::table::Table;

/// An entry with its shard locked. Obtained inside a closure
/// ([`EntryRef::with_locked`], [`Table::touch_with`], [`Table::lookup_with`]),
/// which must not call back into the same table (the lock is not
/// reentrant).
pub struct EntryMut<'a> {
    table: &'a Table,
    meta: MetaMut<'a>,
    data: &'a mut [u32],
}

impl<'a> EntryMut<'a> {
    pub(super) fn new(table: &'a Table, meta: MetaMut<'a>, data: &'a mut [u32]) -> Self {
        EntryMut { table, meta, data }
    }

    /// The value of `data_type` at `now_ms`; `None` when the table does not
    /// store it. Rates are read without rotating.
    pub fn get(&self, data_type: DataType, now_ms: u64) -> Option<u64> {
        let f = self.table.layout().field(data_type)?;
        Some(data::read(&f, self.data, now_ms))
    }

    /// Adds `n` to a counter, or `n` events to a rate. Returns whether the
    /// type is stored.
    #[inline]
    pub fn add(&mut self, data_type: DataType, n: u64, now_ms: u64) -> bool {
        self.write(data_type, now_ms, |f, w| data::add(f, w, n, now_ms))
            .is_some()
    }

    /// Stores `value` truncated to the type's width (a rate's current count).
    pub fn set(&mut self, data_type: DataType, value: u64, now_ms: u64) -> bool {
        self.write(data_type, now_ms, |f, w| data::write(f, w, value, now_ms))
            .is_some()
    }

    /// `sc_inc_gpc0`: bumps `gpc0_rate` (if stored) and `gpc0`, returning the
    /// new `gpc0` (0 when only the rate is stored; `None` when neither is).
    pub fn inc_gpc0(&mut self, now_ms: u64) -> Option<u64> {
        self.inc_gpc(DataType::Gpc0, DataType::Gpc0Rate, now_ms)
    }

    /// `sc_inc_gpc1`, like [`inc_gpc0`](Self::inc_gpc0).
    pub fn inc_gpc1(&mut self, now_ms: u64) -> Option<u64> {
        self.inc_gpc(DataType::Gpc1, DataType::Gpc1Rate, now_ms)
    }

    /// `sc_clr_gpc0`: sets `gpc0` to 0 and returns its previous value.
    pub fn clr_gpc0(&mut self, now_ms: u64) -> Option<u64> {
        self.swap(DataType::Gpc0, 0, now_ms)
    }

    /// `sc_clr_gpc1`.
    pub fn clr_gpc1(&mut self, now_ms: u64) -> Option<u64> {
        self.swap(DataType::Gpc1, 0, now_ms)
    }

    /// `conn_cur += 1`; returns the new value (`None` if not stored).
    pub fn inc_conn_cur(&mut self, now_ms: u64) -> Option<u64> {
        self.write(DataType::ConnCur, now_ms, |f, w| {
            data::add(f, w, 1, now_ms);
            data::read(f, w, now_ms)
        })
    }

    /// `conn_cur -= 1`, never below 0; returns the new value.
    pub fn dec_conn_cur(&mut self, now_ms: u64) -> Option<u64> {
        self.write(DataType::ConnCur, now_ms, |f, w| {
            data::sub_saturating(f, w, 1);
            data::read(f, w, now_ms)
        })
    }

    /// What `tcp-request connection track-sc*` counts on the tracked entry:
    /// `conn_cnt += 1`, one `conn_rate` event, `conn_cur += 1` (those
    /// stored). The session end must call [`dec_conn_cur`](Self::dec_conn_cur).
    pub fn count_connection(&mut self, now_ms: u64) {
        for d in [DataType::ConnCnt, DataType::ConnRate, DataType::ConnCur] {
            self.add(d, 1, now_ms);
        }
    }

    /// Sessions tracking the entry (`use=`).
    pub fn use_count(&self) -> u32 {
        self.meta.get().use_cnt()
    }

    /// Milliseconds until expiry (`exp=`; 0 for tables without `expire`).
    pub fn expires_in(&self, now_ms: u64) -> u64 {
        self.table.remaining(self.meta.get(), now_ms)
    }

    /// Applies a change to a stored type and re-arms the entry.
    #[inline]
    fn write<R>(
        &mut self,
        data_type: DataType,
        now_ms: u64,
        f: impl FnOnce(&Field, &mut [u32]) -> R,
    ) -> Option<R> {
        let field = self.table.layout().field(data_type)?;
        let r = f(&field, self.data);
        self.table.arm(&mut self.meta, now_ms);
        Some(r)
    }

    fn inc_gpc(&mut self, gpc: DataType, rate: DataType, now_ms: u64) -> Option<u64> {
        let rated = self.add(rate, 1, now_ms);
        let value = self.write(gpc, now_ms, |f, w| {
            data::add(f, w, 1, now_ms);
            data::read(f, w, now_ms)
        });
        value.or(rated.then_some(0))
    }

    fn swap(&mut self, data_type: DataType, value: u64, now_ms: u64) -> Option<u64> {
        self.write(data_type, now_ms, |f, w| {
            let old = data::read(f, w, now_ms);
            data::write(f, w, value, now_ms);
            old
        })
    }
}

/// A borrowed handle on an entry; cheap to copy. Each method locks the
/// entry's shard once; see [`EntryMut`] for what they do.
#[derive(Clone, Copy)]
pub struct EntryRef<'t> {
    table: &'t Table,
    shard: u32,
    handle: Handle,
}

impl<'t> EntryRef<'t> {
    pub(super) fn new(table: &'t Table, shard: u32, handle: Handle) -> Self {
        EntryRef {
            table,
            shard,
            handle,
        }
    }

    pub fn table(&self) -> &'t Table {
        self.table
    }

    /// Runs `f` on the entry with its shard locked, if the entry is still
    /// the one this handle names. `f` must not call into the same table.
    pub fn with_locked<R>(&self, f: impl FnOnce(&mut EntryMut<'_>) -> R) -> Option<R> {
        let mut shard = self.table.lock(self.shard as usize);
        let b = shard.find_handle(self.handle)?;
        let (meta, data) = shard.entry_mut(b);
        Some(f(&mut EntryMut::new(self.table, meta, data)))
    }

    pub fn get(&self, data_type: DataType, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.get(data_type, now_ms)).flatten()
    }

    #[inline]
    pub fn add(&self, data_type: DataType, n: u64, now_ms: u64) -> bool {
        self.with_locked(|e| e.add(data_type, n, now_ms))
            .unwrap_or(false)
    }

    pub fn set(&self, data_type: DataType, value: u64, now_ms: u64) -> bool {
        self.with_locked(|e| e.set(data_type, value, now_ms))
            .unwrap_or(false)
    }

    pub fn inc_gpc0(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.inc_gpc0(now_ms)).flatten()
    }

    pub fn inc_gpc1(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.inc_gpc1(now_ms)).flatten()
    }

    pub fn clr_gpc0(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.clr_gpc0(now_ms)).flatten()
    }

    pub fn clr_gpc1(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.clr_gpc1(now_ms)).flatten()
    }

    pub fn inc_conn_cur(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.inc_conn_cur(now_ms)).flatten()
    }

    pub fn dec_conn_cur(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.dec_conn_cur(now_ms)).flatten()
    }

    pub fn count_connection(&self, now_ms: u64) {
        self.with_locked(|e| e.count_connection(now_ms));
    }

    pub fn use_count(&self) -> Option<u32> {
        self.with_locked(|e| e.use_count())
    }

    pub fn expires_in(&self, now_ms: u64) -> Option<u64> {
        self.with_locked(|e| e.expires_in(now_ms))
    }

    /// The entry's key (cloned).
    pub fn key(&self) -> Option<Key> {
        let shard = self.table.lock(self.shard as usize);
        let b = shard.find_handle(self.handle)?;
        Some(shard.key(b))
    }
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("table", &self.table.name())
            .field("entry", &(self.shard, self.handle))
            .finish()
    }
}

/// A session's hold on an entry (`track-sc*`): keeps it alive (`use=`
/// counts trackers) until dropped. Owns an `Arc` of its table, so it can
/// live in a session on any thread and outlive a reload.
pub struct Tracker {
    table: Arc<Table>,
    shard: u32,
    handle: Handle,
}

impl Tracker {
    pub(super) fn new(table: Arc<Table>, shard: u32, handle: Handle) -> Tracker {
        Tracker {
            table,
            shard,
            handle,
        }
    }

    /// The tracked entry, for data operations.
    pub fn entry(&self) -> EntryRef<'_> {
        EntryRef::new(&self.table, self.shard, self.handle)
    }

    pub fn table(&self) -> &Arc<Table> {
        &self.table
    }
}

impl Drop for Tracker {
    /// `use -= 1`; the last tracker puts the entry back in the expiry order
    /// (if it expired meanwhile, the next purge or access removes it).
    fn drop(&mut self) {
        let mut shard = self.table.lock(self.shard as usize);
        let Some(b) = shard.find_handle(self.handle) else {
            debug_assert!(false, "a tracked entry cannot be removed");
            return;
        };
        let (mut meta, _) = shard.entry_mut(b);
        let left = meta.get().use_cnt().saturating_sub(1);
        meta.set_use_cnt(left);
        if left == 0 {
            shard.enqueue(b);
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entry().fmt(f)
    }
}
