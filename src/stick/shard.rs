//! One shard of a table: an open-addressing hash table whose buckets are
//! the entries themselves, plus the expiry queue, all behind the shard's
//! lock.
//!
//! Every function here takes `&mut Shard` or `&Shard`, i.e. runs with the
//! shard lock held (the guard derefs to the shard). A bucket is a row of
//! `stride` words: [`HEAD_WORDS`] of bookkeeping (entry id, key hash, use
//! count, expiry date), the key's inline words (rowkey.rs), then the data
//! words. Beside the rows, one tag byte per bucket (7 bits of the hash, 0
//! when empty). A lookup starts at the bucket the key's hash maps to and
//! walks forward (linear probing) over the tags, eight at a time, reading
//! only the rows whose tag matches, where it compares hash and key. So a
//! lookup-and-update reads a tag word (a small array that stays in cache)
//! and then the entry's row: one or two adjacent cache lines. The load
//! stays at most 7/8.
//!
//! Rows move: growth rehashes them, and removal shifts the rows after the
//! freed bucket back (no tombstones). So an entry is named outside the lock
//! by a [`Handle`], its key hash and an id unique in its shard, found again
//! by probing from the hash; a stale handle simply finds nothing. Bucket
//! indexes are only valid until the next insert or remove.

use std::cell::Cell;

use super::data::Layout;
use super::expiry::{ExpiryQueue, Slots};
use super::key::Key;
use super::rowkey::{self, Probe};
use super::spec::KeyType;

/// Words of bookkeeping at the head of each row.
pub const HEAD_WORDS: usize = 5;
/// Entry id, unique among the shard's live entries; 0 marks an empty bucket.
const ID: usize = 0;
/// The low 32 bits of the key's hash, which choose the home bucket.
const HASH: usize = 1;
/// Use count, with [`QUEUED`] as its top bit.
const USE: usize = 2;
const EXP_LO: usize = 3;
const EXP_HI: usize = 4;
/// Whether the entry has an element in the expiry queue.
const QUEUED: u32 = 1 << 31;

/// The highest load, as a fraction: at most 7 of 8 buckets hold entries.
const LOAD_NUM: usize = 7;
const LOAD_DEN: usize = 8;

/// Names an entry for its whole life: `(hash << 32) | id`.
pub type Handle = u64;

#[inline]
fn handle(hash: u32, id: u32) -> Handle {
    (u64::from(hash) << 32) | u64::from(id)
}

/// An entry's bookkeeping words, read-only.
#[derive(Clone, Copy)]
pub struct Meta<'a>(&'a [u32]);

impl Meta<'_> {
    /// Date (ms) at which the entry expires; for tables without `expire`,
    /// the date it was last armed (then only an eviction order).
    #[inline]
    pub fn expire_at(self) -> u64 {
        u64::from(self.0[EXP_LO]) | (u64::from(self.0[EXP_HI]) << 32)
    }
    /// The entry's id in its shard (never 0 for a live entry).
    #[inline]
    pub fn id(self) -> u32 {
        self.0[ID]
    }
    #[inline]
    pub fn hash(self) -> u32 {
        self.0[HASH]
    }
    #[inline]
    pub fn handle(self) -> Handle {
        handle(self.hash(), self.id())
    }
    #[inline]
    pub fn live(self) -> bool {
        self.id() != 0
    }
    /// Sessions tracking the entry (HAProxy's `ref_cnt`, `use=`).
    #[inline]
    pub fn use_cnt(self) -> u32 {
        self.0[USE] & !QUEUED
    }
    fn queued(self) -> bool {
        self.0[USE] & QUEUED != 0
    }
}

/// An entry's bookkeeping words, writable.
pub struct MetaMut<'a>(&'a mut [u32]);

impl MetaMut<'_> {
    #[inline]
    pub fn get(&self) -> Meta<'_> {
        Meta(self.0)
    }
    #[inline]
    pub fn set_expire_at(&mut self, date: u64) {
        self.0[EXP_LO] = date as u32;
        self.0[EXP_HI] = (date >> 32) as u32;
    }
    /// Sets the use count (at most 2^31 - 1 trackers).
    pub fn set_use_cnt(&mut self, n: u32) {
        self.0[USE] = (self.0[USE] & QUEUED) | (n & !QUEUED);
    }
    fn set_queued(&mut self, queued: bool) {
        self.0[USE] = (self.0[USE] & !QUEUED) | if queued { QUEUED } else { 0 };
    }
}

/// The bucket array: rows of `stride` words, and a tag byte per bucket.
#[derive(Debug)]
struct Rows {
    words: Vec<u32>,
    /// 0 for an empty bucket, else [`tag`] of the entry's hash, then a
    /// copy of the first [`GROUP`] tags so a group read never wraps.
    /// Probing scans these, eight at a time, in a small cache-resident
    /// array, and reads only the rows whose tag matches: almost always
    /// just the one sought.
    tags: Vec<u8>,
    stride: usize,
    buckets: usize,
}

/// The tag of a hash: 7 bits the home bucket (which comes from the high
/// bits) does not depend on, and a bit that makes it non-zero.
#[inline]
fn tag(hash: u32) -> u8 {
    0x80 | (hash as u8 & 0x7f)
}

/// Tags compared at once, as the bytes of a `u64`.
const GROUP: usize = 8;
/// Fewest buckets of a non-empty shard (at least [`GROUP`]).
const MIN_BUCKETS: usize = 16;
const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of the lowest zero byte of `x` is set (higher bytes may be
/// flagged wrongly after a zero byte; callers stop at the lowest).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LOW_BITS) & !x & HIGH_BITS
}

impl Rows {
    /// The home bucket of a hash (multiply-shift, so any bucket count works
    /// and homes keep the hash order).
    #[inline]
    fn home(&self, hash: u32) -> usize {
        ((u64::from(hash) * self.buckets as u64) >> 32) as usize
    }

    #[inline]
    fn next(&self, b: usize) -> usize {
        if b + 1 == self.buckets { 0 } else { b + 1 }
    }

    #[inline]
    fn row(&self, b: usize) -> &[u32] {
        let at = self.at(b);
        &self.words[at..at + self.stride]
    }

    #[inline]
    fn meta(&self, b: usize) -> Meta<'_> {
        let at = self.at(b);
        Meta(&self.words[at..at + HEAD_WORDS])
    }

    fn meta_mut(&mut self, b: usize) -> MetaMut<'_> {
        let at = self.at(b);
        MetaMut(&mut self.words[at..at + HEAD_WORDS])
    }

    /// The index in `words` of row `b`'s first word.
    #[inline]
    fn at(&self, b: usize) -> usize {
        b * self.stride
    }

    #[inline]
    fn row_mut(&mut self, b: usize) -> &mut [u32] {
        let at = self.at(b);
        &mut self.words[at..at + self.stride]
    }

    #[inline]
    fn is_empty(&self, b: usize) -> bool {
        self.tags[b] == 0
    }

    /// Sets the tag of bucket `b` (and its copy past the end).
    fn set_tag(&mut self, b: usize, t: u8) {
        self.tags[b] = t;
        if b < GROUP {
            self.tags[self.buckets + b] = t;
        }
    }

    /// The first bucket from `hash`'s home on for which `hit` holds, before
    /// an empty one. There is always an empty bucket (load below 1).
    #[inline]
    fn probe(&self, hash: u32, hit: impl Fn(usize) -> bool) -> Option<usize> {
        if self.buckets == 0 {
            return None;
        }
        let mut pos = self.home(hash);
        let want = LOW_BITS * u64::from(tag(hash));
        loop {
            let mut group = [0; GROUP];
            group.copy_from_slice(&self.tags[pos..pos + GROUP]);
            let group = u64::from_le_bytes(group);
            let empty = zero_bytes(group);
            // Only buckets before the first empty one belong to the probe.
            let before = match empty.trailing_zeros() {
                64 => u64::MAX,
                bit => (1 << (bit - 7)) - 1,
            };
            let mut found = zero_bytes(group ^ want) & before;
            while found != 0 {
                let b = pos + found.trailing_zeros() as usize / 8;
                let b = if b >= self.buckets {
                    b - self.buckets
                } else {
                    b
                };
                if hit(b) {
                    return Some(b);
                }
                found &= found - 1;
            }
            if empty != 0 {
                return None;
            }
            pos += GROUP;
            if pos >= self.buckets {
                pos -= self.buckets;
            }
        }
    }

    /// The first empty bucket from `hash`'s home on.
    fn vacancy(&self, hash: u32) -> usize {
        let mut b = self.home(hash);
        while !self.is_empty(b) {
            b = self.next(b);
        }
        b
    }

    fn find_handle(&self, h: Handle) -> Option<usize> {
        let (hash, id) = ((h >> 32) as u32, h as u32);
        if id == 0 {
            return None;
        }
        self.probe(hash, |b| {
            let m = self.meta(b);
            m.id() == id && m.hash() == hash
        })
    }
}

/// The expiry queue's view of the rows, by handle. It asks several things
/// about each handle in a row, so the last bucket found is kept (rows do
/// not move while the queue looks).
struct View<'a> {
    rows: &'a mut Rows,
    last: Cell<Option<(Handle, Option<usize>)>>,
}

impl<'a> View<'a> {
    fn new(rows: &'a mut Rows) -> Self {
        View {
            rows,
            last: Cell::new(None),
        }
    }

    /// A view that already knows where `h` is.
    fn at(rows: &'a mut Rows, h: Handle, b: usize) -> Self {
        View {
            rows,
            last: Cell::new(Some((h, Some(b)))),
        }
    }

    fn locate(&self, h: Handle) -> Option<usize> {
        match self.last.get() {
            Some((last, b)) if last == h => b,
            _ => {
                let b = self.rows.find_handle(h);
                self.last.set(Some((h, b)));
                b
            }
        }
    }
}

impl Slots<Handle> for View<'_> {
    fn live(&self, h: Handle) -> bool {
        self.locate(h).is_some()
    }
    fn in_use(&self, h: Handle) -> bool {
        self.locate(h)
            .is_some_and(|b| self.rows.meta(b).use_cnt() > 0)
    }
    fn expire_at(&self, h: Handle) -> u64 {
        self.locate(h).map_or(0, |b| self.rows.meta(b).expire_at())
    }
    fn queued(&self, h: Handle) -> bool {
        self.locate(h).is_some_and(|b| self.rows.meta(b).queued())
    }
    fn set_queued(&mut self, h: Handle, queued: bool) {
        if let Some(b) = self.locate(h) {
            self.rows.meta_mut(b).set_queued(queued);
        }
    }
}

#[derive(Debug)]
pub struct Shard {
    key_type: KeyType,
    key_words: usize,
    /// The table's data words (the row may have padding after them).
    data_words: usize,
    rows: Rows,
    /// Out-of-row key bytes by bucket (string and binary tables only).
    bytes: Vec<Box<[u8]>>,
    live: usize,
    /// Buckets for this shard's share of the table at the highest load:
    /// growth stops doubling there, so a full table wastes little.
    planned: usize,
    next_id: u32,
    queue: ExpiryQueue<Handle>,
}

impl Shard {
    /// An empty shard expected to hold about `share` entries at most.
    pub fn new(key_type: KeyType, layout: &Layout, share: usize) -> Shard {
        let key_words = rowkey::inline_words(key_type);
        Shard {
            key_type,
            key_words,
            data_words: layout.words(),
            rows: Rows {
                words: Vec::new(),
                tags: Vec::new(),
                stride: HEAD_WORDS + key_words + layout.words(),
                buckets: 0,
            },
            bytes: Vec::new(),
            live: 0,
            planned: buckets_for(share),
            next_id: 0,
            queue: ExpiryQueue::default(),
        }
    }

    /// The bucket of `key` (`hash` is its hash's low 32 bits), expired or
    /// not.
    #[inline]
    pub fn find(&self, hash: u32, key: &Probe<'_>) -> Option<usize> {
        let kw = self.key_words;
        self.rows.probe(hash, |b| {
            let row = self.rows.row(b);
            row[HASH] == hash
                && key.matches(
                    &row[HEAD_WORDS..HEAD_WORDS + kw],
                    self.bytes.get(b).map(|k| &k[..]),
                )
        })
    }

    /// The bucket of the live entry `h` names, if it is still there.
    pub fn find_handle(&self, h: Handle) -> Option<usize> {
        self.rows.find_handle(h)
    }

    /// Bucket indexes (for scans: check [`Meta::live`]).
    pub fn capacity(&self) -> usize {
        self.rows.buckets
    }

    #[inline]
    pub fn meta(&self, b: usize) -> Meta<'_> {
        self.rows.meta(b)
    }

    /// Bookkeeping and data words of bucket `b`, read-only.
    pub fn entry(&self, b: usize) -> (Meta<'_>, &[u32]) {
        let row = self.rows.row(b);
        let data = HEAD_WORDS + self.key_words;
        (Meta(&row[..HEAD_WORDS]), &row[data..data + self.data_words])
    }

    /// Bookkeeping and data words of bucket `b`.
    #[inline]
    pub fn entry_mut(&mut self, b: usize) -> (MetaMut<'_>, &mut [u32]) {
        let (key_words, data_words) = (self.key_words, self.data_words);
        let (head, rest) = self.rows.row_mut(b).split_at_mut(HEAD_WORDS);
        (MetaMut(head), &mut rest[key_words..key_words + data_words])
    }

    /// The key of a live bucket.
    pub fn key(&self, b: usize) -> Key {
        let inline = &self.rows.row(b)[HEAD_WORDS..HEAD_WORDS + self.key_words];
        let bytes = self.bytes.get(b).map_or(&[][..], |k| &k[..]);
        rowkey::key_of(self.key_type, inline, bytes)
    }

    /// Inserts `key` (absent, of the table's type) armed at `expire_at`
    /// with fresh data; returns its bucket.
    pub fn insert(
        &mut self,
        hash: u32,
        key: &Probe<'_>,
        expire_at: u64,
        layout: &Layout,
        now_ms: u64,
    ) -> usize {
        if (self.live + 1) * LOAD_DEN > self.rows.buckets * LOAD_NUM {
            self.grow();
        }
        let b = self.rows.vacancy(hash);
        self.rows.set_tag(b, tag(hash));
        // Ids skip 0, which marks empty buckets.
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let (key_words, data_words) = (self.key_words, self.data_words);
        let (head, rest) = self.rows.row_mut(b).split_at_mut(HEAD_WORDS);
        let (inline, rest) = rest.split_at_mut(key_words);
        let data = &mut rest[..data_words];
        head[ID] = self.next_id;
        head[HASH] = hash;
        head[USE] = 0;
        let mut meta = MetaMut(head);
        meta.set_expire_at(expire_at);
        if let (Some(bytes), Some(slot)) = (key.store(inline), self.bytes.get_mut(b)) {
            *slot = bytes;
        }
        layout.init(data, now_ms);
        self.live += 1;
        self.enqueue(b);
        b
    }

    /// Frees a live bucket: the rows after it that may move closer to their
    /// home shift back, so probes never cross a hole.
    pub fn remove(&mut self, b: usize) {
        debug_assert!(self.meta(b).live());
        if let Some(k) = self.bytes.get_mut(b) {
            *k = Box::default();
        }
        let stride = self.rows.stride;
        let mut hole = b;
        let mut j = self.rows.next(b);
        while !self.rows.is_empty(j) {
            let home = self.rows.home(self.rows.meta(j).hash());
            // The row at `j` must stay if its home lies in (hole, j], cyclically.
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                let (from, to) = (self.rows.at(j), self.rows.at(hole));
                self.rows.words.copy_within(from..from + stride, to);
                if !self.bytes.is_empty() {
                    self.bytes.swap(hole, j);
                }
                let t = self.rows.tags[j];
                self.rows.set_tag(hole, t);
                hole = j;
            }
            j = self.rows.next(j);
        }
        let at = self.rows.at(hole);
        self.rows.words[at + ID] = 0;
        self.rows.set_tag(hole, 0);
        self.live -= 1;
        if self.queue.len() > 2 * self.live + 1024 {
            self.rebuild_queue();
        }
    }

    /// Puts a live bucket's entry back in the expiry order (after its last
    /// tracker left).
    pub fn enqueue(&mut self, b: usize) {
        let meta = self.meta(b);
        let (h, stamp) = (meta.handle(), meta.expire_at());
        self.queue
            .enqueue(&mut View::at(&mut self.rows, h, b), h, stamp);
    }

    /// Removes the oldest unused entry armed at or before `deadline`
    /// (`None`: regardless of date); returns whether there was one.
    pub fn pop_victim(&mut self, deadline: Option<u64>) -> bool {
        let Some(h) = self
            .queue
            .next_victim(&mut View::new(&mut self.rows), deadline)
        else {
            return false;
        };
        match self.rows.find_handle(h) {
            Some(b) => {
                self.remove(b);
                true
            }
            None => false,
        }
    }

    /// Estimated bytes an entry costs in a full shard: its row and
    /// out-of-row key box at the highest load, and its queue element.
    pub fn bytes_per_entry(&self) -> usize {
        let boxed = if rowkey::out_of_row(self.key_type) {
            std::mem::size_of::<Box<[u8]>>()
        } else {
            0
        };
        (4 * self.rows.stride + 1 + boxed) * LOAD_DEN / LOAD_NUM
            + std::mem::size_of::<(u64, Handle)>()
    }

    /// Rehashes into more buckets: doubling up to the planned size, then
    /// by a quarter.
    fn grow(&mut self) {
        let n = self.rows.buckets;
        let target = if n < self.planned {
            (2 * n).max(MIN_BUCKETS).min(self.planned.max(MIN_BUCKETS))
        } else {
            n + n / 4 + 16
        }
        .max(buckets_for(self.live + 1));
        let stride = self.rows.stride;
        let old = std::mem::replace(&mut self.rows.words, vec![0; target * stride]);
        let mut old_bytes = std::mem::take(&mut self.bytes);
        self.rows.tags = vec![0; target + GROUP];
        self.rows.buckets = target;
        if rowkey::out_of_row(self.key_type) {
            self.bytes = vec![Box::default(); target];
        }
        for (ob, row) in old.chunks_exact(stride).enumerate() {
            if row[ID] == 0 {
                continue;
            }
            let b = self.rows.vacancy(row[HASH]);
            self.rows.set_tag(b, tag(row[HASH]));
            self.rows.row_mut(b).copy_from_slice(row);
            if let (Some(k), Some(slot)) = (old_bytes.get_mut(ob), self.bytes.get_mut(b)) {
                *slot = std::mem::take(k);
            }
        }
    }

    /// Re-queues every live unused entry once, dropping the elements of
    /// removed entries (which `clear table` and lazy expiry leave behind).
    fn rebuild_queue(&mut self) {
        self.queue.reset(self.live);
        for b in 0..self.rows.buckets {
            let meta = self.rows.meta(b);
            if !meta.live() {
                continue;
            }
            let (h, stamp, unused) = (meta.handle(), meta.expire_at(), meta.use_cnt() == 0);
            if unused {
                self.queue.push_unchecked(h, stamp);
            }
            self.rows.meta_mut(b).set_queued(unused);
        }
    }
}

/// Buckets that hold `entries` at the highest load.
fn buckets_for(entries: usize) -> usize {
    entries * LOAD_DEN / LOAD_NUM + 1
}

#[cfg(test)]
mod tests;
