//! One shard of a table: the key index, an arena of entries and the expiry
//! queue, all behind the shard's lock.
//!
//! Every function here takes `&mut Shard`, i.e. runs with the shard lock
//! held (the guard derefs to the shard). An entry is a row of `stride` words
//! in one arena: [`META_WORDS`] of bookkeeping (expiry date, generation, use
//! count) followed by its data words, so an operation touches one place
//! after the key lookup. Rows never move, so an entry is addressed by
//! `(shard, slot, generation)`; the generation is odd while the slot is live
//! and changes on every free and reuse, which is how a stale handle notices
//! its entry is gone.

use super::data::Layout;
use super::expiry::{ExpiryQueue, MAX_SLOTS, Slots};
use super::key::Key;
use super::keymap::KeyMap;
use super::spec::KeyType;

/// Words of bookkeeping at the head of each row.
pub const META_WORDS: usize = 4;
const EXP_LO: usize = 0;
const EXP_HI: usize = 1;
const GENERATION: usize = 2;
const USE_CNT: usize = 3;

/// An entry's bookkeeping words, read-only.
#[derive(Clone, Copy)]
pub struct Meta<'a>(&'a [u32]);

impl Meta<'_> {
    /// Date (ms) at which the entry expires; for tables without `expire`,
    /// the date it was last armed (then only an eviction order).
    pub fn expire_at(self) -> u64 {
        u64::from(self.0[EXP_LO]) | (u64::from(self.0[EXP_HI]) << 32)
    }
    pub fn generation(self) -> u32 {
        self.0[GENERATION]
    }
    pub fn live(self) -> bool {
        self.generation() & 1 == 1
    }
    /// Sessions tracking the entry (HAProxy's `ref_cnt`, `use=`).
    pub fn use_cnt(self) -> u32 {
        self.0[USE_CNT]
    }
}

/// An entry's bookkeeping words, writable.
pub struct MetaMut<'a>(&'a mut [u32]);

impl MetaMut<'_> {
    pub fn get(&self) -> Meta<'_> {
        Meta(self.0)
    }
    pub fn set_expire_at(&mut self, date: u64) {
        self.0[EXP_LO] = date as u32;
        self.0[EXP_HI] = (date >> 32) as u32;
    }
    pub fn set_use_cnt(&mut self, n: u32) {
        self.0[USE_CNT] = n;
    }
}

#[derive(Debug)]
pub struct Shard {
    keys: KeyMap,
    stride: usize,
    arena: Vec<u32>,
    /// Whether a slot has an element in `queue` (see expiry.rs).
    queued: Vec<bool>,
    free: Vec<u32>,
    queue: ExpiryQueue,
}

impl Shard {
    pub fn new(key_type: KeyType, layout: &Layout) -> Shard {
        Shard {
            keys: KeyMap::new(key_type),
            stride: META_WORDS + layout.words(),
            arena: Vec::new(),
            queued: Vec::new(),
            free: Vec::new(),
            queue: ExpiryQueue::default(),
        }
    }

    /// The slot of `key`, expired or not.
    pub fn find(&self, key: &Key) -> Option<u32> {
        self.keys.find(key)
    }

    /// Slot indexes ever allocated (live or free).
    pub fn capacity(&self) -> u32 {
        // At most MAX_SLOTS (2^24) rows.
        (self.arena.len() / self.stride) as u32
    }

    pub fn meta(&self, idx: u32) -> Meta<'_> {
        let at = idx as usize * self.stride;
        Meta(&self.arena[at..at + META_WORDS])
    }

    /// The entry at `idx` if it still holds `generation` (live).
    pub fn entry_checked(
        &mut self,
        idx: u32,
        generation: u32,
    ) -> Option<(MetaMut<'_>, &mut [u32])> {
        let ok = idx < self.capacity()
            && self.meta(idx).generation() == generation
            && generation & 1 == 1;
        ok.then(|| self.entry_mut(idx))
    }

    /// Bookkeeping and data words of slot `idx`.
    pub fn entry_mut(&mut self, idx: u32) -> (MetaMut<'_>, &mut [u32]) {
        let at = idx as usize * self.stride;
        let (meta, data) = self.arena[at..at + self.stride].split_at_mut(META_WORDS);
        (MetaMut(meta), data)
    }

    /// The key of a live slot.
    pub fn key(&self, idx: u32) -> Key {
        self.keys.key(idx)
    }

    /// Inserts `key` (absent) armed at `expire_at` with fresh data. `None`
    /// when the key is not of the table's type or the shard is out of slot
    /// indexes.
    pub fn insert(
        &mut self,
        key: &Key,
        expire_at: u64,
        layout: &Layout,
        now_ms: u64,
    ) -> Option<u32> {
        if !self.keys.accepts(key) {
            return None;
        }
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None if (self.capacity() as usize) < MAX_SLOTS => self.grow(),
            None => return None,
        };
        let (mut meta, data) = self.entry_mut(idx);
        let generation = meta.get().generation().wrapping_add(1);
        meta.0[GENERATION] = generation;
        meta.set_expire_at(expire_at);
        meta.set_use_cnt(0);
        layout.init(data, now_ms);
        self.keys.insert(key, idx);
        self.enqueue(idx);
        Some(idx)
    }

    /// Frees a live slot and forgets its key.
    pub fn remove(&mut self, idx: u32) {
        debug_assert!(self.meta(idx).live());
        self.keys.remove(idx);
        let (meta, _) = self.entry_mut(idx);
        // Even generation: free. A stale handle's generation no longer matches.
        meta.0[GENERATION] = meta.0[GENERATION].wrapping_add(1);
        self.free.push(idx);
    }

    /// Puts a slot back in the expiry order (after its last tracker left).
    pub fn enqueue(&mut self, idx: u32) {
        let stamp = self.meta(idx).expire_at();
        let (queue, mut view) = self.split();
        queue.enqueue(&mut view, idx, stamp);
    }

    /// Removes and returns the oldest unused entry armed at or before
    /// `deadline` (`None`: regardless of date).
    pub fn pop_victim(&mut self, deadline: Option<u64>) -> Option<u32> {
        let (queue, mut view) = self.split();
        let idx = queue.next_victim(&mut view, deadline)?;
        self.remove(idx);
        Some(idx)
    }

    /// Memory a key costs in the index (see `KeyMap::bytes_per_key`).
    pub fn bytes_per_key(&self) -> usize {
        self.keys.bytes_per_key()
    }

    fn grow(&mut self) -> u32 {
        let idx = self.capacity();
        if self.arena.len() == self.arena.capacity() {
            // Grow by an eighth rather than doubling: a full table's shards
            // then waste at most ~12% of their rows, not up to half.
            let rows = (idx as usize / 8).max(64);
            self.arena.reserve_exact(rows * self.stride);
            self.queued.reserve_exact(rows);
        }
        self.arena.resize(self.arena.len() + self.stride, 0);
        self.queued.push(false);
        idx
    }

    fn split(&mut self) -> (&mut ExpiryQueue, View<'_>) {
        let view = View {
            arena: &self.arena,
            queued: &mut self.queued,
            stride: self.stride,
        };
        (&mut self.queue, view)
    }
}

/// What the expiry queue sees of the shard's slots.
struct View<'a> {
    arena: &'a [u32],
    queued: &'a mut [bool],
    stride: usize,
}

impl View<'_> {
    fn meta(&self, idx: u32) -> Meta<'_> {
        let at = idx as usize * self.stride;
        Meta(&self.arena[at..at + META_WORDS])
    }
}

impl Slots for View<'_> {
    fn live(&self, idx: u32) -> bool {
        self.meta(idx).live()
    }
    fn in_use(&self, idx: u32) -> bool {
        self.meta(idx).use_cnt() > 0
    }
    fn expire_at(&self, idx: u32) -> u64 {
        self.meta(idx).expire_at()
    }
    fn queued(&self, idx: u32) -> bool {
        self.queued[idx as usize]
    }
    fn set_queued(&mut self, idx: u32, queued: bool) {
        self.queued[idx as usize] = queued;
    }
}
