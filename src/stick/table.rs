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
use super::key::Key;
use super::rowkey::Probe;
use super::shard::{Meta, MetaMut, Shard};
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
        let share = shard_share(spec.size as usize, shards);
        Table {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Shard::new(spec.key_type, &layout, share))))
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

    #[inline]
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
        let (si, hash, probe) = self.locate(key)?;
        let mut shard = self.lock(si);
        let b = self.find_live(&mut shard, hash, &probe, now_ms)?;
        Some(self.entry_ref(si, shard.meta(b)))
    }

    /// The entry of `key`, created if missing, re-armed. `None` when the key
    /// is new and the table full and `nopurge`.
    pub fn touch(&self, key: &Key, now_ms: u64) -> Option<EntryRef<'_>> {
        let (si, hash, probe) = self.locate(key)?;
        let mut shard = self.lock(si);
        let b = self.get_or_create(&mut shard, si, hash, &probe, now_ms)?;
        Some(self.entry_ref(si, shard.meta(b)))
    }

    /// [`lookup`](Self::lookup) and `f` under one shard lock. `f` must not
    /// call into this table.
    #[inline]
    pub fn lookup_with<R>(
        &self,
        key: &Key,
        now_ms: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        let (si, hash, probe) = self.locate(key)?;
        let mut shard = self.lock(si);
        let b = self.find_live(&mut shard, hash, &probe, now_ms)?;
        let (meta, data) = shard.entry_mut(b);
        Some(f(&mut EntryMut::new(self, meta, data)))
    }

    /// [`touch`](Self::touch) and `f` under one shard lock: the cheapest
    /// lookup-and-update. `f` must not call into this table.
    #[inline]
    pub fn touch_with<R>(
        &self,
        key: &Key,
        now_ms: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        let (si, hash, probe) = self.locate(key)?;
        let mut shard = self.lock(si);
        let b = self.get_or_create(&mut shard, si, hash, &probe, now_ms)?;
        let (meta, data) = shard.entry_mut(b);
        Some(f(&mut EntryMut::new(self, meta, data)))
    }

    /// Like [`touch`](Self::touch), and pins the entry (`use += 1`) until the
    /// returned tracker is dropped. Counting the connection (`conn_cnt`,
    /// `conn_rate`, `conn_cur`) is left to the caller, e.g. with
    /// [`EntryRef::count_connection`], because HAProxy does it only for
    /// `tcp-request connection` tracking.
    pub fn track(self: &Arc<Self>, key: &Key, now_ms: u64) -> Option<Tracker> {
        let (si, hash, probe) = self.locate(key)?;
        let mut shard = self.lock(si);
        let b = self.get_or_create(&mut shard, si, hash, &probe, now_ms)?;
        let (mut meta, _) = shard.entry_mut(b);
        let handle = meta.get().handle();
        meta.set_use_cnt(meta.get().use_cnt() + 1);
        Some(Tracker::new(Arc::clone(self), si as u32, handle))
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

    /// Estimated memory per entry of a full table in bytes: its row
    /// (bookkeeping, inline key and data words) at the shards' highest load,
    /// and its expiry queue element.
    pub fn bytes_per_entry(&self) -> usize {
        self.lock(0).bytes_per_entry()
    }

    // ----- crate-internal: used by entry.rs and dump.rs -----

    #[inline]
    pub(super) fn lock(&self, si: usize) -> MutexGuard<'_, Shard> {
        self.shards[si].lock()
    }

    pub(super) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard of `key`, the low 32 bits of its hash (its place in the
    /// shard) and its row form; `None` for a key of another type.
    #[inline]
    pub(super) fn locate<'k>(&self, key: &'k Key) -> Option<(usize, u32, Probe<'k>)> {
        let probe = Probe::new(self.spec.key_type, key)?;
        let hash = probe.hash(&self.hasher);
        // High bits choose the shard, low bits the bucket inside it.
        let si = if self.shard_bits == 0 {
            0
        } else {
            (hash >> (64 - self.shard_bits)) as usize
        };
        Some((si, hash as u32, probe))
    }

    /// Sets `exp` back to the table's `expire` from now.
    #[inline]
    pub(super) fn arm(&self, meta: &mut MetaMut<'_>, now_ms: u64) {
        meta.set_expire_at(now_ms + u64::from(self.spec.expire_ms));
    }

    /// Whether an entry is gone for everyone but its trackers.
    #[inline]
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

    /// Frees a bucket found by key (not by the queue), keeping `used` right.
    pub(super) fn remove_locked(&self, shard: &mut Shard, b: usize) {
        shard.remove(b);
        self.used.fetch_sub(1, Ordering::Relaxed);
    }

    /// Removes up to `limit` expired entries of a locked shard.
    pub(super) fn purge_shard(&self, shard: &mut Shard, now_ms: u64, limit: usize) -> usize {
        if self.spec.expire_ms == 0 {
            // The queue then orders by last touch, for eviction only.
            return 0;
        }
        let mut n = 0;
        while n < limit && shard.pop_victim(Some(now_ms)) {
            self.used.fetch_sub(1, Ordering::Relaxed);
            n += 1;
        }
        n
    }

    fn entry_ref(&self, si: usize, meta: Meta<'_>) -> EntryRef<'_> {
        EntryRef::new(self, si as u32, meta.handle())
    }

    /// The live bucket of `key`, dropping it on the way if it expired.
    #[inline]
    fn find_live(
        &self,
        shard: &mut Shard,
        hash: u32,
        key: &Probe<'_>,
        now_ms: u64,
    ) -> Option<usize> {
        let b = shard.find(hash, key)?;
        if self.is_expired(shard.meta(b), now_ms) {
            self.remove_locked(shard, b);
            return None;
        }
        Some(b)
    }

    #[inline]
    fn get_or_create(
        &self,
        shard: &mut Shard,
        si: usize,
        hash: u32,
        key: &Probe<'_>,
        now_ms: u64,
    ) -> Option<usize> {
        if let Some(b) = self.find_live(shard, hash, key, now_ms) {
            self.arm(&mut shard.entry_mut(b).0, now_ms);
            return Some(b);
        }
        self.create(shard, si, hash, key, now_ms)
    }

    /// The slow path of [`get_or_create`](Self::get_or_create): a new key.
    #[cold]
    fn create(
        &self,
        shard: &mut Shard,
        si: usize,
        hash: u32,
        key: &Probe<'_>,
        now_ms: u64,
    ) -> Option<usize> {
        // A little housekeeping on the slow path keeps `used:` honest.
        self.purge_shard(shard, now_ms, 2);
        if !self.reserve() && !self.make_room(shard, si) {
            return None;
        }
        let expire_at = now_ms + u64::from(self.spec.expire_ms);
        Some(shard.insert(hash, key, expire_at, &self.layout, now_ms))
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
        if shard.pop_victim(None) {
            return true;
        }
        (1..self.shards.len()).any(|d| {
            let other = (si + d) % self.shards.len();
            self.shards[other]
                .try_lock()
                .is_some_and(|mut s| s.pop_victim(None))
        })
    }
}

/// Shards for a table of `size` entries: one per 1024 entries, a power of
/// two, at most [`MAX_SHARDS`].
fn shard_count(size: u32) -> usize {
    (size as usize / 1024)
        .clamp(1, MAX_SHARDS)
        .next_power_of_two()
        .min(MAX_SHARDS)
}

/// Entries one shard should expect at most in a full table: its even share
/// plus three standard deviations of the hashing's spread.
fn shard_share(size: usize, shards: usize) -> usize {
    let even = size.div_ceil(shards);
    even + 3 * even.isqrt() + 16
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
