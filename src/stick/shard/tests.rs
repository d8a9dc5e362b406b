//! The shard against a plain map, with hashes chosen to collide and to wrap
//! around the end of the bucket array, so probing, backward-shift removal,
//! growth and handles after rows moved are all exercised.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::stick::spec::{DataSpec, DataType, TableSpec};

fn layout() -> Layout {
    Layout::new(&TableSpec {
        name: "t".into(),
        key_type: KeyType::Integer,
        size: 100,
        expire_ms: 0,
        nopurge: false,
        peers: None,
        store: vec![DataSpec {
            data_type: DataType::Gpc0,
            period_ms: 0,
        }],
    })
}

/// Few distinct hashes, two at the top of the range (last buckets).
fn hash_of(k: u32) -> u32 {
    [0, 7, 1 << 31, u32::MAX - 3, u32::MAX][(k % 5) as usize]
}

fn key(key_type: KeyType, k: u32) -> Key {
    match key_type {
        KeyType::Integer => Key::Integer(k),
        _ => Key::Str(k.to_string().into_bytes().into()),
    }
}

fn check(s: &Shard, key_type: KeyType, model: &BTreeMap<u32, Handle>, stale: &[Handle]) {
    assert_eq!(s.live, model.len());
    for k in 0..40 {
        let want = key(key_type, k);
        let probe = Probe::new(key_type, &want).unwrap();
        let found = s.find(hash_of(k), &probe);
        assert_eq!(found.is_some(), model.contains_key(&k), "key {k}");
        if let Some(b) = found {
            assert_eq!(s.key(b), want);
            assert_eq!(s.find_handle(model[&k]), Some(b));
        }
    }
    for &h in stale {
        assert_eq!(s.find_handle(h), None);
    }
}

fn run(key_type: KeyType, ops: &[(bool, u32)]) {
    let layout = layout();
    let mut s = Shard::new(key_type, &layout, 8);
    let mut model = BTreeMap::new();
    let mut stale = Vec::new();
    for &(insert, k) in ops {
        let want = key(key_type, k);
        let probe = Probe::new(key_type, &want).unwrap();
        match (insert, model.contains_key(&k)) {
            (true, false) => {
                let b = s.insert(hash_of(k), &probe, u64::from(k), &layout, 0);
                model.insert(k, s.meta(b).handle());
            }
            (false, true) => {
                let b = s.find(hash_of(k), &probe).unwrap();
                s.remove(b);
                stale.extend(model.remove(&k));
            }
            _ => {}
        }
        check(&s, key_type, &model, &stale);
    }
}

proptest! {
    #[test]
    fn integer_keys_follow_a_map(ops in proptest::collection::vec((any::<bool>(), 0u32..40), 1..200)) {
        run(KeyType::Integer, &ops);
    }

    #[test]
    fn string_keys_follow_a_map(ops in proptest::collection::vec((any::<bool>(), 0u32..40), 1..200)) {
        run(KeyType::String { len: 8 }, &ops);
    }
}

#[test]
fn removed_entries_do_not_pile_up_in_the_queue() {
    let layout = layout();
    let mut s = Shard::new(KeyType::Integer, &layout, 8);
    for k in 0..10_000u32 {
        let want = Key::Integer(k);
        let probe = Probe::new(KeyType::Integer, &want).unwrap();
        let b = s.insert(k, &probe, u64::from(k), &layout, 0);
        if k % 100 != 0 {
            s.remove(s.find(k, &probe).unwrap_or(b));
        }
    }
    assert_eq!(s.live, 100);
    assert!(s.queue.len() <= 2 * s.live + 1024);
    // The survivors come out oldest first.
    assert!(s.pop_victim(None));
    assert_eq!(s.find(0, &Probe::Word(0)), None);
    assert!(s.find(100, &Probe::Word(100)).is_some());
}
