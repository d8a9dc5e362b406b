//! Expiry and eviction order of a shard's entries.
//!
//! Each shard keeps a min-heap of `(stamp, slot)` packed into one `u64`. The
//! stamp is a lower bound of the slot's `expire_at` (for tables without
//! `expire`, of its last-touch time), so the heap is ordered by "least
//! recently re-armed first", which is both the expiry order and HAProxy's
//! eviction order (it trashes the oldest entries of its expiry tree).
//!
//! Re-arming an entry only stores its new `expire_at` in the slot: the heap
//! is not touched on the hot path. When a popped stamp is older than the
//! slot's `expire_at`, the slot is pushed back with its current date (the
//! lazy requeue HAProxy's expiry task also does). Invariants:
//!
//! * a slot index has at most one heap element (`Slot::queued`), even across
//!   free and reuse, so the heap never outgrows the slab;
//! * a live slot with `use_cnt == 0` is queued; an in-use slot may be dropped
//!   from the heap when popped, and is queued again on release.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Bits of the packed element that hold the slot index: 16M slots a shard.
pub const SLOT_BITS: u32 = 24;
/// The largest slot index a shard may hold.
pub const MAX_SLOTS: usize = 1 << SLOT_BITS;
/// Stamps are clamped to 40 bits of milliseconds (about 34 years of uptime).
const MAX_STAMP: u64 = (1 << (64 - SLOT_BITS)) - 1;

/// What the queue needs to know about the shard's slots.
pub trait Slots {
    fn live(&self, idx: u32) -> bool;
    fn in_use(&self, idx: u32) -> bool;
    fn expire_at(&self, idx: u32) -> u64;
    fn queued(&self, idx: u32) -> bool;
    fn set_queued(&mut self, idx: u32, queued: bool);
}

/// The shard's heap of `(stamp, slot)`.
#[derive(Debug, Default)]
pub struct ExpiryQueue {
    heap: BinaryHeap<Reverse<u64>>,
}

impl ExpiryQueue {
    /// Queues `idx` at `stamp` unless it already has an element (whose stamp
    /// is then older, and is fixed lazily when popped).
    pub fn enqueue(&mut self, slots: &mut impl Slots, idx: u32, stamp: u64) {
        if !slots.queued(idx) {
            slots.set_queued(idx, true);
            self.push(idx, stamp);
        }
    }

    /// The next slot to remove: the live unused slot with the oldest date,
    /// if that date is at most `deadline` (`None`: any date, for eviction).
    /// The returned slot is no longer queued; the caller must free it.
    pub fn next_victim(&mut self, slots: &mut impl Slots, deadline: Option<u64>) -> Option<u32> {
        while let Some(&Reverse(packed)) = self.heap.peek() {
            let (stamp, idx) = unpack(packed);
            if deadline.is_some_and(|d| stamp > d) {
                return None;
            }
            self.heap.pop();
            if !slots.live(idx) || slots.in_use(idx) {
                // Freed, or pinned by a tracker: queued again on release.
                slots.set_queued(idx, false);
            } else if slots.expire_at(idx) > stamp {
                // Re-armed since it was queued.
                self.push(idx, slots.expire_at(idx));
            } else {
                slots.set_queued(idx, false);
                return Some(idx);
            }
        }
        None
    }

    /// Heap elements.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn push(&mut self, idx: u32, stamp: u64) {
        debug_assert!((idx as usize) < MAX_SLOTS);
        self.heap.push(Reverse(
            (stamp.min(MAX_STAMP) << SLOT_BITS) | u64::from(idx),
        ));
    }
}

fn unpack(packed: u64) -> (u64, u32) {
    // The mask keeps 24 bits, which fit a u32.
    (
        packed >> SLOT_BITS,
        (packed & (MAX_SLOTS as u64 - 1)) as u32,
    )
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
