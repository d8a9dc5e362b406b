//! The table against a model that keeps every entry in a plain map and
//! applies the documented rules directly (size bound, LRU-by-expiry
//! eviction of unused entries, nopurge, expiry never while tracked).

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;

use super::{ip, spec};
use crate::stick::{DataType, Table, Tracker};

const SIZE: usize = 6;
const EXPIRE: u64 = 50;

#[derive(Debug, Clone)]
enum Op {
    Touch(u32),
    Track(u32),
    Release(usize),
    IncGpc0(u32),
    Lookup(u32),
    Purge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct M {
    exp: u64,
    uses: u32,
    gpc0: u64,
}

struct Model {
    entries: BTreeMap<u32, M>,
    nopurge: bool,
}

impl Model {
    fn expired(m: &M, now: u64) -> bool {
        m.uses == 0 && m.exp <= now
    }

    fn visible(&self, k: u32, now: u64) -> Option<M> {
        self.entries
            .get(&k)
            .copied()
            .filter(|m| !Self::expired(m, now))
    }

    fn touch(&mut self, k: u32, now: u64) -> bool {
        if let Some(m) = self.entries.get_mut(&k).filter(|m| !Self::expired(m, now)) {
            m.exp = now + EXPIRE;
            return true;
        }
        self.entries.retain(|_, m| !Self::expired(m, now));
        if self.entries.len() >= SIZE {
            let victim = self
                .entries
                .iter()
                .filter(|(_, m)| m.uses == 0)
                .min_by_key(|(_, m)| m.exp);
            match victim.map(|(&v, _)| v) {
                Some(v) if !self.nopurge => self.entries.remove(&v),
                _ => return false,
            };
        }
        self.entries.insert(
            k,
            M {
                exp: now + EXPIRE,
                uses: 0,
                gpc0: 0,
            },
        );
        true
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..10).prop_map(Op::Touch),
        (0u32..10).prop_map(Op::Track),
        (0usize..4).prop_map(Op::Release),
        (0u32..10).prop_map(Op::IncGpc0),
        (0u32..10).prop_map(Op::Lookup),
        Just(Op::Purge),
    ]
}

proptest! {
    #[test]
    fn table_follows_the_model(nopurge: bool, ops in proptest::collection::vec((op(), 1u64..30), 1..80)) {
        let mut s = spec(SIZE as u32, EXPIRE as u32, &[(DataType::Gpc0, 0)]);
        s.nopurge = nopurge;
        let t = Arc::new(Table::new(s));
        let mut model = Model { entries: BTreeMap::new(), nopurge };
        let mut trackers: Vec<(u32, Tracker)> = Vec::new();
        let mut now = 0;
        for (op, dt) in ops {
            now += dt;
            match op {
                Op::Touch(k) => prop_assert_eq!(t.touch(&ip(k), now).is_some(), model.touch(k, now)),
                Op::Track(k) => {
                    let got = t.track(&ip(k), now);
                    prop_assert_eq!(got.is_some(), model.touch(k, now));
                    if let Some(tr) = got {
                        if let Some(m) = model.entries.get_mut(&k) {
                            m.uses += 1;
                        }
                        trackers.push((k, tr));
                    }
                }
                Op::Release(i) if i < trackers.len() => {
                    let (k, tr) = trackers.remove(i);
                    drop(tr);
                    if let Some(m) = model.entries.get_mut(&k) {
                        m.uses -= 1;
                    }
                }
                Op::Release(_) => {}
                Op::IncGpc0(k) => {
                    let got = t.touch_with(&ip(k), now, |e| e.inc_gpc0(now));
                    let expected = model.touch(k, now).then(|| {
                        model.entries.get_mut(&k).map(|m| {
                            m.gpc0 += 1;
                            m.gpc0
                        })
                    });
                    prop_assert_eq!(got, expected);
                }
                Op::Lookup(k) => {
                    let seen = t.lookup(&ip(k), now).is_some();
                    prop_assert_eq!(seen, model.visible(k, now).is_some());
                }
                Op::Purge => {
                    t.purge_expired(now);
                }
            }
            for k in 0..10 {
                let got = t.lookup_with(&ip(k), now, |e| (e.get(DataType::Gpc0, now), e.use_count(), e.expires_in(now)));
                let expected = model.visible(k, now).map(|m| (Some(m.gpc0), m.uses, m.exp.saturating_sub(now)));
                prop_assert_eq!(got, expected, "key {} at {}", k, now);
            }
            prop_assert!(t.len() <= SIZE);
        }
    }
}
