//! A stick table shared by every worker: entries sharded by key hash, each
//! shard behind its own short `parking_lot` lock on its own cache line.
//!
//! Bounds and lifetimes (HAProxy 2.6 semantics):
//! * `size` is a hard bound on live entries. A new key in a full table
//!   evicts the least recently armed unused entry (of its shard, or of any
//!   other shard whose lock is free when its own shard has none), unless the
//!   table is `nopurge`: then the new key is refused.
//! * An entry expires `expire` ms after it was last armed, but never while a
//!   [`Tracker`] holds it (`use > 0`); it then goes at the first purge or
//!   access after its last tracker left.
//! * Armed (`exp` reset to `expire`): on creation, on track, on `set table`,
//!   and whenever a stored value changes. Reads never re-arm (§5.4).
//!
//! Expired entries are invisible at once to lookups and dumps, and removed
//! lazily by accesses, by [`Table::show_header`] and by [`Table::purge_expired`],
//! which the process should call about once a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam::utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};

use super::data::Layout;
use super::entry::{EntryMut, EntryRef, Tracker};
use super::expiry::MAX_SLOTS;
use super::key::Key;
use super::shard::{META_WORDS, Meta, MetaMut, Shard};
use super::spec::{DataType, TableSpec};

/// Largest number of shards; tables under 2048 entries have one shard, so
/// their LRU eviction order is exact.
const MAX_SHARDS: usize = 64;

/// Why `set table` could not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetError {
    /// The table does not store this data type.
    NotStored,
    /// The key is new, the table full and `nopurge` (or nothing evictable).
    Full,
}

pub struct Table {
    spec: TableSpec,
    layout: Layout,
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// log2 of the shard count.
    shard_bits: u32,
    hasher: ahash::RandomState,
    /// Live entries over all shards; creation reserves here first.
    used: AtomicUsize,
}

impl Table {
    pub fn new(spec: TableSpec) -> Table {
        let shards = shard_count(spec.size);
        let layout = Layout::new(&spec);
        Table {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Shard::new(spec.key_type, &layout))))
                .collect(),
            shard_bits: shards.trailing_zeros(),
            hasher: ahash::RandomState::new(),
            used: AtomicUsize::new(0),
            layout,
            spec,
        }
    }

    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Live entries (`used:`); may still count entries expired since the
    /// last purge.
    pub fn len(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The declared bound (`size:`).
    pub fn size(&self) -> usize {
        self.spec.size as usize
    }

    /// Free room before eviction starts.
    pub fn avail(&self) -> usize {
        self.size().saturating_sub(self.len())
    }

    /// Whether the table stores `data_type`.
    pub fn stores(&self, data_type: DataType) -> bool {
        self.layout.field(data_type).is_some()
    }

    /// The entry of `key`, if present and not expired. Read-only: no
    /// creation, no re-arm (for `src_get_gpc0`, `src_conn_rate`, ...).
    pub fn lookup(&self, key: &Key, now_ms: u64) -> Option<EntryRef<'_>> {
        let si = self.shard_index(key);
        let mut shard = self.lock(si);
        let idx = self.find_live(&mut shard, key, now_ms)?;
        Some(self.entry_ref(si, idx, shard.meta(idx).generation()))
    }

    /// The entry of `key`, created if missing, re-armed. `None` when the key
    /// is new and the table full and `nopurge`.
    pub fn touch(&self, key: &Key, now_ms: u64) -> Option<EntryRef<'_>> {
        let si = self.shard_index(key);
        let mut shard = self.lock(si);
        let idx = self.get_or_create(&mut shard, si, key, now_ms)?;
        Some(self.entry_ref(si, idx, shard.meta(idx).generation()))
    }

    /// [`lookup`](Self::lookup) and `f` under one shard lock. `f` must not
    /// call into this table.
    pub fn lookup_with<R>(
        &self,
        key: &Key,
        now_ms: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        let si = self.shard_index(key);
        let mut shard = self.lock(si);
        let idx = self.find_live(&mut shard, key, now_ms)?;
        let (meta, data) = shard.entry_mut(idx);
        Some(f(&mut EntryMut::new(self, meta, data)))
    }

    /// [`touch`](Self::touch) and `f` under one shard lock: the cheapest
    /// lookup-and-update. `f` must not call into this table.
    pub fn touch_with<R>(
        &self,
        key: &Key,
        now_ms: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        let si = self.shard_index(key);
        let mut shard = self.lock(si);
        let idx = self.get_or_create(&mut shard, si, key, now_ms)?;
        let (meta, data) = shard.entry_mut(idx);
        Some(f(&mut EntryMut::new(self, meta, data)))
    }

    /// Like [`touch`](Self::touch), and pins the entry (`use += 1`) until the
    /// returned tracker is dropped. Counting the connection (`conn_cnt`,
    /// `conn_rate`, `conn_cur`) is left to the caller, e.g. with
    /// [`EntryRef::count_connection`], because HAProxy does it only for
    /// `tcp-request connection` tracking.
    pub fn track(self: &Arc<Self>, key: &Key, now_ms: u64) -> Option<Tracker> {
        let si = self.shard_index(key);
        let mut shard = self.lock(si);
        let idx = self.get_or_create(&mut shard, si, key, now_ms)?;
        let (mut meta, _) = shard.entry_mut(idx);
        let generation = meta.get().generation();
        meta.set_use_cnt(meta.get().use_cnt() + 1);
        Some(Tracker::new(Arc::clone(self), si as u32, idx, generation))
    }

    /// `set table <t> key <k> data.<type> <value>`: creates or re-arms the
    /// entry and stores `value` truncated to the type's width.
    pub fn set_data(
        &self,
        key: &Key,
        data_type: DataType,
        value: u64,
        now_ms: u64,
    ) -> Result<(), SetError> {
        if !self.stores(data_type) {
            return Err(SetError::NotStored);
        }
        let entry = self.touch(key, now_ms).ok_or(SetError::Full)?;
        entry.set(data_type, value, now_ms);
        Ok(())
    }

    /// Removes every unused entry expired at `now_ms`; returns how many.
    pub fn purge_expired(&self, now_ms: u64) -> usize {
        (0..self.shards.len())
            .map(|si| self.purge_shard(&mut self.lock(si), now_ms, usize::MAX))
            .sum()
    }

    /// Estimated memory per entry in bytes: row (bookkeeping and data
    /// words), key index (at the map's 7/8 maximum load), queue element and
    /// its flag.
    pub fn bytes_per_entry(&self) -> usize {
        let key = self.lock(0).bytes_per_key();
        4 * (META_WORDS + self.layout.words()) + key + 8 + 1
    }

    // ----- crate-internal: used by entry.rs and dump.rs -----

    pub(super) fn lock(&self, si: usize) -> MutexGuard<'_, Shard> {
        self.shards[si].lock()
    }

    pub(super) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub(super) fn shard_index(&self, key: &Key) -> usize {
        if self.shard_bits == 0 {
            return 0;
        }
        // High bits: the map inside the shard uses its own hasher anyway.
        (self.hasher.hash_one(key) >> (64 - self.shard_bits)) as usize
    }

    /// Sets `exp` back to the table's `expire` from now.
    pub(super) fn arm(&self, meta: &mut MetaMut<'_>, now_ms: u64) {
        meta.set_expire_at(now_ms + u64::from(self.spec.expire_ms));
    }

    /// Whether an entry is gone for everyone but its trackers.
    pub(super) fn is_expired(&self, meta: Meta<'_>, now_ms: u64) -> bool {
        self.spec.expire_ms > 0 && meta.use_cnt() == 0 && meta.expire_at() <= now_ms
    }

    /// Milliseconds until expiry as `exp=` prints it (0 without `expire`).
    pub(super) fn remaining(&self, meta: Meta<'_>, now_ms: u64) -> u64 {
        if self.spec.expire_ms == 0 {
            0
        } else {
            meta.expire_at().saturating_sub(now_ms)
        }
    }

    /// Frees a slot found by key (not by the queue), keeping `used` right.
    pub(super) fn remove_locked(&self, shard: &mut Shard, idx: u32) {
        shard.remove(idx);
        self.used.fetch_sub(1, Ordering::Relaxed);
    }

    /// Removes up to `limit` expired entries of a locked shard.
    pub(super) fn purge_shard(&self, shard: &mut Shard, now_ms: u64, limit: usize) -> usize {
        if self.spec.expire_ms == 0 {
            // The queue then orders by last touch, for eviction only.
            return 0;
        }
        let mut n = 0;
        while n < limit && shard.pop_victim(Some(now_ms)).is_some() {
            self.used.fetch_sub(1, Ordering::Relaxed);
            n += 1;
        }
        n
    }

    fn entry_ref(&self, si: usize, idx: u32, generation: u32) -> EntryRef<'_> {
        EntryRef::new(self, si as u32, idx, generation)
    }

    /// The live index of `key`, dropping it on the way if it expired.
    fn find_live(&self, shard: &mut Shard, key: &Key, now_ms: u64) -> Option<u32> {
        let idx = shard.find(key)?;
        if self.is_expired(shard.meta(idx), now_ms) {
            self.remove_locked(shard, idx);
            return None;
        }
        Some(idx)
    }

    fn get_or_create(&self, shard: &mut Shard, si: usize, key: &Key, now_ms: u64) -> Option<u32> {
        if let Some(idx) = self.find_live(shard, key, now_ms) {
            self.arm(&mut shard.entry_mut(idx).0, now_ms);
            return Some(idx);
        }
        // A little housekeeping on the slow path keeps `used:` honest.
        self.purge_shard(shard, now_ms, 2);
        if !self.reserve() && !self.make_room(shard, si) {
            return None;
        }
        let expire_at = now_ms + u64::from(self.spec.expire_ms);
        let idx = shard.insert(key, expire_at, &self.layout, now_ms);
        if idx.is_none() {
            self.used.fetch_sub(1, Ordering::Relaxed);
        }
        idx
    }

    /// Counts one more entry if the table has room.
    fn reserve(&self) -> bool {
        let size = self.size();
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < size).then_some(n + 1)
            })
            .is_ok()
    }

    /// Evicts one unused entry so that a new one can take its count: from
    /// this shard first, else from any other shard whose lock is free
    /// (`try_lock`, so two full shards never wait on each other).
    fn make_room(&self, shard: &mut Shard, si: usize) -> bool {
        if self.spec.nopurge {
            return false;
        }
        if shard.pop_victim(None).is_some() {
            return true;
        }
        (1..self.shards.len()).any(|d| {
            let other = (si + d) % self.shards.len();
            self.shards[other]
                .try_lock()
                .is_some_and(|mut s| s.pop_victim(None).is_some())
        })
    }
}

/// Shards for a table of `size` entries: one per 1024 entries, a power of
/// two, at most [`MAX_SHARDS`], and enough that each fits its slot indexes.
fn shard_count(size: u32) -> usize {
    let by_size = (size as usize / 1024)
        .clamp(1, MAX_SHARDS)
        .next_power_of_two()
        .min(MAX_SHARDS);
    let needed = (size as usize).div_ceil(MAX_SLOTS).next_power_of_two();
    by_size.max(needed)
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.spec.name)
            .field("used", &self.len())
            .field("size", &self.spec.size)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
