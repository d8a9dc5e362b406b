//! Expiry and eviction order of a shard's entries.
//!
//! Each shard keeps a min-heap of `(stamp, handle)`. The stamp is a lower
//! bound of the entry's `expire_at` (for tables without `expire`, of its
//! last-touch time), so the heap is ordered by "least recently re-armed
//! first", which is both the expiry order and HAProxy's eviction order (it
//! trashes the oldest entries of its expiry tree). A handle names an entry
//! for as long as it lives, even if its row moves (shard.rs uses the key
//! hash and a per-shard entry id).
//!
//! Re-arming an entry only stores its new `expire_at` in the row: the heap
//! is not touched on the hot path. When a popped stamp is older than the
//! entry's `expire_at`, it is pushed back with its current date (the lazy
//! requeue HAProxy's expiry task also does). Invariants:
//!
//! * a live entry has at most one heap element (its `queued` flag);
//! * a live entry with `use_cnt == 0` is queued; an in-use entry may be
//!   dropped from the heap when popped, and is queued again on release;
//! * an element whose entry is gone is dropped when popped (the shard
//!   rebuilds the heap when such elements pile up).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the queue needs to know about the shard's entries, by handle.
pub trait Slots<H = u32> {
    fn live(&self, handle: H) -> bool;
    fn in_use(&self, handle: H) -> bool;
    fn expire_at(&self, handle: H) -> u64;
    fn queued(&self, handle: H) -> bool;
    fn set_queued(&mut self, handle: H, queued: bool);
}

/// The shard's heap of `(stamp, handle)`.
#[derive(Debug)]
pub struct ExpiryQueue<H = u32> {
    heap: BinaryHeap<Reverse<(u64, H)>>,
}

impl<H: Ord> Default for ExpiryQueue<H> {
    fn default() -> Self {
        ExpiryQueue {
            heap: BinaryHeap::new(),
        }
    }
}

impl<H: Copy + Ord> ExpiryQueue<H> {
    /// Queues `handle` at `stamp` unless it already has an element (whose
    /// stamp is then older, and is fixed lazily when popped).
    pub fn enqueue(&mut self, slots: &mut impl Slots<H>, handle: H, stamp: u64) {
        if !slots.queued(handle) {
            slots.set_queued(handle, true);
            self.push(handle, stamp);
        }
    }

    /// The next entry to remove: the live unused entry with the oldest date,
    /// if that date is at most `deadline` (`None`: any date, for eviction).
    /// The returned entry is no longer queued; the caller must free it.
    pub fn next_victim(&mut self, slots: &mut impl Slots<H>, deadline: Option<u64>) -> Option<H> {
        while let Some(&Reverse((stamp, handle))) = self.heap.peek() {
            if deadline.is_some_and(|d| stamp > d) {
                return None;
            }
            self.heap.pop();
            if !slots.live(handle) || slots.in_use(handle) {
                // Removed since it was queued, or pinned by a tracker:
                // queued again on release.
                slots.set_queued(handle, false);
            } else if slots.expire_at(handle) > stamp {
                // Re-armed since it was queued.
                self.push(handle, slots.expire_at(handle));
            } else {
                slots.set_queued(handle, false);
                return Some(handle);
            }
        }
        None
    }

    /// Heap elements, live or not.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops every element and makes room for `capacity`, before
    /// re-queueing the live entries.
    pub fn reset(&mut self, capacity: usize) {
        self.heap = BinaryHeap::with_capacity(capacity);
    }

    /// Adds an element without looking at the queued flag (for a rebuild
    /// that already cleared the heap and sets the flags itself).
    pub fn push_unchecked(&mut self, handle: H, stamp: u64) {
        self.push(handle, stamp);
    }

    fn push(&mut self, handle: H, stamp: u64) {
        if self.heap.len() == self.heap.capacity() {
            // Grow by an eighth rather than doubling: a full table's queues
            // then waste at most ~12% of their elements, not up to half.
            self.heap.reserve_exact((self.heap.len() / 8).max(64));
        }
        self.heap.push(Reverse((stamp, handle)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct S {
        live: bool,
        uses: u32,
        exp: u64,
        queued: bool,
    }

    impl Slots for Vec<S> {
        fn live(&self, i: u32) -> bool {
            self[i as usize].live
        }
        fn in_use(&self, i: u32) -> bool {
            self[i as usize].uses > 0
        }
        fn expire_at(&self, i: u32) -> u64 {
            self[i as usize].exp
        }
        fn queued(&self, i: u32) -> bool {
            self[i as usize].queued
        }
        fn set_queued(&mut self, i: u32, queued: bool) {
            self[i as usize].queued = queued;
        }
    }

    fn slots(exps: &[u64]) -> (Vec<S>, ExpiryQueue) {
        let mut v: Vec<S> = exps
            .iter()
            .map(|&exp| S {
                live: true,
                exp,
                ..S::default()
            })
            .collect();
        let mut q = ExpiryQueue::default();
        for (i, &e) in exps.iter().enumerate() {
            q.enqueue(&mut v, i as u32, e);
        }
        (v, q)
    }

    #[test]
    fn victims_come_oldest_first_up_to_the_deadline() {
        let (mut v, mut q) = slots(&[30, 10, 20]);
        assert_eq!(q.next_victim(&mut v, Some(25)), Some(1));
        assert_eq!(q.next_victim(&mut v, Some(25)), Some(2));
        assert_eq!(q.next_victim(&mut v, Some(25)), None);
        assert_eq!(q.next_victim(&mut v, None), Some(0));
    }

    #[test]
    fn rearmed_slots_are_requeued_not_removed() {
        let (mut v, mut q) = slots(&[10, 20]);
        v[0].exp = 50;
        assert_eq!(q.next_victim(&mut v, Some(30)), Some(1));
        assert_eq!(q.next_victim(&mut v, Some(30)), None);
        assert_eq!(q.next_victim(&mut v, None), Some(0));
        assert!(q.is_empty());
    }

    #[test]
    fn in_use_and_freed_slots_leave_the_queue() {
        let (mut v, mut q) = slots(&[10, 20, 30]);
        v[0].uses = 1;
        v[1].live = false;
        assert_eq!(q.next_victim(&mut v, None), Some(2));
        assert!(!v[0].queued && !v[1].queued);
        q.enqueue(&mut v, 0, 10);
        q.enqueue(&mut v, 0, 10);
        assert_eq!(q.len(), 1);
    }
}
