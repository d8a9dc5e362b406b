//! Handles on one entry: [`EntryRef`] (borrowed from the table, unpinned)
//! and [`Tracker`] (owned, pins the entry while a session tracks it).
//!
//! A handle is `(shard, slot, generation)`. Each operation takes the shard
//! lock for the time of a few loads and stores and checks the generation:
//! an [`EntryRef`] whose entry was evicted, expired or cleared since reads
//! as `None` and ignores writes. A [`Tracker`]'s entry cannot go away (use
//! count > 0 blocks eviction, expiry and `clear table`).
//!
//! Every write re-arms the entry's expiry when the type is stored, as
//! HAProxy does after updating a tracked counter (§5.4). No operation
//! allocates.

use std::sync::Arc;

use super::data::{self, Field};
use super::key::Key;
use super::shard::Slot;
use super::spec::DataType;
use super::table::Table;

/// A borrowed handle on an entry; cheap to copy.
#[derive(Clone, Copy)]
pub struct EntryRef<'t> {
    table: &'t Table,
    shard: u32,
    slot: u32,
    generation: u32,
}

impl<'t> EntryRef<'t> {
    pub(super) fn new(table: &'t Table, shard: u32, slot: u32, generation: u32) -> Self {
        EntryRef {
            table,
            shard,
            slot,
            generation,
        }
    }

    pub fn table(&self) -> &'t Table {
        self.table
    }

    /// The value of `data_type` at `now_ms`; `None` when the table does not
    /// store it (or the entry is gone). Rates are read without rotating.
    pub fn get(&self, data_type: DataType, now_ms: u64) -> Option<u64> {
        let f = self.table.layout().field(data_type)?;
        self.with(|_, w| data::read(&f, w, now_ms))
    }

    /// Adds `n` to a counter, or `n` events to a rate. Returns whether the
    /// type is stored (and the entry still there).
    pub fn add(&self, data_type: DataType, n: u64, now_ms: u64) -> bool {
        self.write(data_type, now_ms, |f, w| data::add(f, w, n, now_ms))
            .is_some()
    }

    /// Stores `value` truncated to the type's width (a rate's current count).
    pub fn set(&self, data_type: DataType, value: u64, now_ms: u64) -> bool {
        self.write(data_type, now_ms, |f, w| data::write(f, w, value, now_ms))
            .is_some()
    }

    /// `sc_inc_gpc0`: bumps `gpc0_rate` (if stored) and `gpc0`, returning the
    /// new `gpc0` (0 when only the rate is stored; `None` when neither is).
    pub fn inc_gpc0(&self, now_ms: u64) -> Option<u64> {
        self.inc_gpc(DataType::Gpc0, DataType::Gpc0Rate, now_ms)
    }

    /// `sc_inc_gpc1`, like [`inc_gpc0`](Self::inc_gpc0).
    pub fn inc_gpc1(&self, now_ms: u64) -> Option<u64> {
        self.inc_gpc(DataType::Gpc1, DataType::Gpc1Rate, now_ms)
    }

    /// `sc_clr_gpc0`: sets `gpc0` to 0 and returns its previous value.
    pub fn clr_gpc0(&self, now_ms: u64) -> Option<u64> {
        self.swap(DataType::Gpc0, 0, now_ms)
    }

    /// `sc_clr_gpc1`.
    pub fn clr_gpc1(&self, now_ms: u64) -> Option<u64> {
        self.swap(DataType::Gpc1, 0, now_ms)
    }

    /// `conn_cur += 1`; returns the new value (`None` if not stored).
    pub fn inc_conn_cur(&self, now_ms: u64) -> Option<u64> {
        self.write(DataType::ConnCur, now_ms, |f, w| {
            data::add(f, w, 1, now_ms);
            data::read(f, w, now_ms)
        })
    }

    /// `conn_cur -= 1`, never below 0; returns the new value.
    pub fn dec_conn_cur(&self, now_ms: u64) -> Option<u64> {
        self.write(DataType::ConnCur, now_ms, |f, w| {
            data::sub_saturating(f, w, 1);
            data::read(f, w, now_ms)
        })
    }

    /// What `tcp-request connection track-sc*` counts on the tracked entry:
    /// `conn_cnt += 1`, one `conn_rate` event, `conn_cur += 1` (those
    /// stored), under one lock. The session end must call
    /// [`dec_conn_cur`](Self::dec_conn_cur).
    pub fn count_connection(&self, now_ms: u64) {
        let layout = self.table.layout();
        let fields =
            [DataType::ConnCnt, DataType::ConnRate, DataType::ConnCur].map(|d| layout.field(d));
        if fields.iter().all(Option::is_none) {
            return;
        }
        self.with(|slot, w| {
            fields
                .iter()
                .flatten()
                .for_each(|f| data::add(f, w, 1, now_ms));
            self.table.arm(slot, now_ms);
        });
    }

    /// Sessions tracking the entry (`use=`).
    pub fn use_count(&self) -> Option<u32> {
        self.with(|slot, _| slot.use_cnt)
    }

    /// Milliseconds until expiry (`exp=`).
    pub fn expires_in(&self, now_ms: u64) -> Option<u64> {
        self.with(|slot, _| self.table.remaining(slot, now_ms))
    }

    /// The entry's key (cloned).
    pub fn key(&self) -> Option<Key> {
        self.with(|slot, _| slot.key.clone())
    }

    /// Runs `f` on the slot and its words with the shard locked, if the
    /// entry is still the one this handle names.
    fn with<R>(&self, f: impl FnOnce(&mut Slot, &mut [u32]) -> R) -> Option<R> {
        let stride = self.table.layout().words();
        let mut shard = self.table.lock(self.shard as usize);
        shard.slot_of(self.slot, self.generation)?;
        let (slot, words) = shard.entry_mut(self.slot, stride);
        Some(f(slot, words))
    }

    /// Applies a change to a stored type and re-arms the entry.
    fn write<R>(
        &self,
        data_type: DataType,
        now_ms: u64,
        f: impl FnOnce(&Field, &mut [u32]) -> R,
    ) -> Option<R> {
        let field = self.table.layout().field(data_type)?;
        self.with(|slot, w| {
            let r = f(&field, w);
            self.table.arm(slot, now_ms);
            r
        })
    }

    fn inc_gpc(&self, gpc: DataType, rate: DataType, now_ms: u64) -> Option<u64> {
        let layout = self.table.layout();
        let (gpc, rate) = (layout.field(gpc), layout.field(rate));
        if gpc.is_none() && rate.is_none() {
            return None;
        }
        self.with(|slot, w| {
            if let Some(r) = &rate {
                data::add(r, w, 1, now_ms);
            }
            let value = gpc.map_or(0, |g| {
                data::add(&g, w, 1, now_ms);
                data::read(&g, w, now_ms)
            });
            self.table.arm(slot, now_ms);
            value
        })
    }

    fn swap(&self, data_type: DataType, value: u64, now_ms: u64) -> Option<u64> {
        self.write(data_type, now_ms, |f, w| {
            let old = data::read(f, w, now_ms);
            data::write(f, w, value, now_ms);
            old
        })
    }
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("table", &self.table.name())
            .field("slot", &(self.shard, self.slot, self.generation))
            .finish()
    }
}

/// A session's hold on an entry (`track-sc*`): keeps it alive (`use=`
/// counts trackers) until dropped. Owns an `Arc` of its table, so it can
/// live in a session on any thread and outlive a reload.
pub struct Tracker {
    table: Arc<Table>,
    shard: u32,
    slot: u32,
    generation: u32,
}

impl Tracker {
    pub(super) fn new(table: Arc<Table>, shard: u32, slot: u32, generation: u32) -> Tracker {
        Tracker {
            table,
            shard,
            slot,
            generation,
        }
    }

    /// The tracked entry, for data operations.
    pub fn entry(&self) -> EntryRef<'_> {
        EntryRef::new(&self.table, self.shard, self.slot, self.generation)
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
        let Some(slot) = shard.slot_of(self.slot, self.generation) else {
            debug_assert!(false, "a tracked entry cannot be removed");
            return;
        };
        slot.use_cnt = slot.use_cnt.saturating_sub(1);
        if slot.use_cnt == 0 {
            shard.requeue(self.slot);
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entry().fmt(f)
    }
}
