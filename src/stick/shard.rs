//! One shard of a table: a slab of entries, their data words, the key map
//! and the expiry queue, all behind the shard's lock.
//!
//! Every function here takes `&mut Shard`, i.e. it runs with the shard lock
//! held (the guard derefs to the shard). Slots are never moved, so an entry
//! is addressed by `(shard, slot, generation)`: `generation` changes each time a slot is
//! reused, which is how a stale handle notices its entry is gone.

use ahash::AHashMap;

use super::data::Layout;
use super::expiry::{ExpiryQueue, MAX_SLOTS, Queued};
use super::key::Key;

/// An entry's bookkeeping; its data lives in `Shard::words`.
#[derive(Debug)]
pub struct Slot {
    /// A copy of the map key, to remove the entry when evicted or expired.
    pub key: Key,
    /// Date (ms) at which the entry expires; for tables without `expire`,
    /// the date it was last armed (only used as eviction order).
    pub expire_at: u64,
    /// Bumped on every reuse of the slot.
    pub generation: u32,
    /// Sessions tracking the entry (HAProxy's `ref_cnt`, `use=`).
    pub use_cnt: u32,
    pub live: bool,
    queued: bool,
}

impl Queued for Slot {
    fn live(&self) -> bool {
        self.live
    }
    fn in_use(&self) -> bool {
        self.use_cnt > 0
    }
    fn expire_at(&self) -> u64 {
        self.expire_at
    }
    fn set_queued(&mut self, queued: bool) {
        self.queued = queued;
    }
    fn queued(&self) -> bool {
        self.queued
    }
}

#[derive(Debug, Default)]
pub struct Shard {
    pub map: AHashMap<Key, u32>,
    pub slots: Vec<Slot>,
    /// `stride` words per slot, slot `i` at `i * stride`.
    pub words: Vec<u32>,
    free: Vec<u32>,
    queue: ExpiryQueue,
}

impl Shard {
    /// The live slot index of `key`, expired or not.
    pub fn find(&self, key: &Key) -> Option<u32> {
        self.map.get(key).copied()
    }

    /// The slot at `idx` if it still holds generation `generation`.
    pub fn slot_of(&mut self, idx: u32, generation: u32) -> Option<&mut Slot> {
        self.slots
            .get_mut(idx as usize)
            .filter(|s| s.live && s.generation == generation)
    }

    /// The data words of slot `idx`.
    pub fn words_of(&mut self, idx: u32, stride: usize) -> &mut [u32] {
        let at = idx as usize * stride;
        &mut self.words[at..at + stride]
    }

    /// Both the slot and its words (the borrow checker needs them split).
    pub fn entry_mut(&mut self, idx: u32, stride: usize) -> (&mut Slot, &mut [u32]) {
        let at = idx as usize * stride;
        (
            &mut self.slots[idx as usize],
            &mut self.words[at..at + stride],
        )
    }

    /// Inserts `key` (absent) in a free slot armed at `expire_at`, with fresh
    /// data. `None` when the shard has no more slot indexes.
    pub fn insert(
        &mut self,
        key: &Key,
        expire_at: u64,
        layout: &Layout,
        now_ms: u64,
    ) -> Option<u32> {
        let stride = layout.words();
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None if self.slots.len() < MAX_SLOTS => self.grow(stride),
            None => return None,
        };
        let slot = &mut self.slots[idx as usize];
        slot.key = key.clone();
        slot.expire_at = expire_at;
        slot.generation = slot.generation.wrapping_add(1);
        slot.use_cnt = 0;
        slot.live = true;
        layout.init(self.words_of(idx, stride), now_ms);
        self.queue.enqueue(&mut self.slots, idx, expire_at);
        self.map.insert(key.clone(), idx);
        Some(idx)
    }

    /// Frees a live slot and forgets its key.
    pub fn remove(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        debug_assert!(slot.live);
        slot.live = false;
        // The placeholder frees a string key's heap memory now.
        let key = std::mem::replace(&mut slot.key, Key::Integer(0));
        self.map.remove(&key);
        self.free.push(idx);
    }

    /// Puts a slot whose last tracker left back in the expiry order.
    pub fn requeue(&mut self, idx: u32) {
        let stamp = self.slots[idx as usize].expire_at;
        self.queue.enqueue(&mut self.slots, idx, stamp);
    }

    /// Removes and returns the oldest unused entry armed at or before
    /// `deadline` (`None`: regardless of date).
    pub fn pop_victim(&mut self, deadline: Option<u64>) -> Option<u32> {
        let idx = self.queue.next_victim(&mut self.slots, deadline)?;
        self.remove(idx);
        Some(idx)
    }

    fn grow(&mut self, stride: usize) -> u32 {
        // `insert` checked the length against MAX_SLOTS (2^24).
        let idx = self.slots.len() as u32;
        self.slots.push(Slot {
            key: Key::Integer(0),
            expire_at: 0,
            generation: 0,
            use_cnt: 0,
            live: false,
            queued: false,
        });
        self.words.resize(self.words.len() + stride, 0);
        idx
    }
}
