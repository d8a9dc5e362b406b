//! A shard's key index in both directions (key → slot, slot → key), stored
//! in the narrowest form of the table's key type: an IPv4 or integer table
//! hashes plain `u32`s (8-byte buckets), an IPv6 table `u128`s, and only
//! string and binary tables pay for boxed bytes. The lookup is the first
//! cache miss of every operation, so a small bucket matters.

use std::net::{Ipv4Addr, Ipv6Addr};

use ahash::AHashMap;

use super::key::Key;
use super::spec::KeyType;

#[derive(Debug)]
enum Store {
    U32 {
        map: AHashMap<u32, u32>,
        keys: Vec<u32>,
    },
    U128 {
        map: AHashMap<u128, u32>,
        keys: Vec<u128>,
    },
    Bytes {
        map: AHashMap<Box<[u8]>, u32>,
        keys: Vec<Box<[u8]>>,
    },
}

#[derive(Debug)]
pub struct KeyMap {
    key_type: KeyType,
    store: Store,
}

impl KeyMap {
    pub fn new(key_type: KeyType) -> KeyMap {
        let store = match key_type {
            KeyType::Ip | KeyType::Integer => Store::U32 {
                map: AHashMap::new(),
                keys: Vec::new(),
            },
            KeyType::Ipv6 => Store::U128 {
                map: AHashMap::new(),
                keys: Vec::new(),
            },
            KeyType::String { .. } | KeyType::Binary { .. } => Store::Bytes {
                map: AHashMap::new(),
                keys: Vec::new(),
            },
        };
        KeyMap { key_type, store }
    }

    /// The slot of `key`; `None` also for a key of another type.
    pub fn find(&self, key: &Key) -> Option<u32> {
        match (&self.store, key) {
            (Store::U32 { map, .. }, Key::Ip(v4)) => map.get(&u32::from(*v4)).copied(),
            (Store::U32 { map, .. }, Key::Integer(n)) => map.get(n).copied(),
            (Store::U128 { map, .. }, Key::Ipv6(v6)) => map.get(&u128::from(*v6)).copied(),
            (Store::Bytes { map, .. }, Key::Str(b) | Key::Bin(b)) => map.get(&b[..]).copied(),
            _ => None,
        }
    }

    /// Whether `key` has this table's key type.
    pub fn accepts(&self, key: &Key) -> bool {
        matches!(
            (self.key_type, key),
            (KeyType::Ip, Key::Ip(_))
                | (KeyType::Integer, Key::Integer(_))
                | (KeyType::Ipv6, Key::Ipv6(_))
                | (KeyType::String { .. }, Key::Str(_))
                | (KeyType::Binary { .. }, Key::Bin(_))
        )
    }

    /// Indexes `key` (absent, accepted) at slot `idx`.
    pub fn insert(&mut self, key: &Key, idx: u32) {
        debug_assert!(self.accepts(key));
        let at = idx as usize;
        match (&mut self.store, key) {
            (Store::U32 { map, keys }, Key::Ip(v4)) => put(map, keys, at, u32::from(*v4), 0),
            (Store::U32 { map, keys }, Key::Integer(n)) => put(map, keys, at, *n, 0),
            (Store::U128 { map, keys }, Key::Ipv6(v6)) => put(map, keys, at, u128::from(*v6), 0),
            (Store::Bytes { map, keys }, Key::Str(b) | Key::Bin(b)) => {
                put(map, keys, at, b.clone(), Box::default())
            }
            _ => {}
        }
    }

    /// Forgets the key of slot `idx`.
    pub fn remove(&mut self, idx: u32) {
        let at = idx as usize;
        match &mut self.store {
            Store::U32 { map, keys } => map.remove(&keys[at]),
            Store::U128 { map, keys } => map.remove(&keys[at]),
            // Taking the box frees a long key's memory now.
            Store::Bytes { map, keys } => map.remove(&std::mem::take(&mut keys[at])),
        };
    }

    /// The key of a live slot.
    pub fn key(&self, idx: u32) -> Key {
        let at = idx as usize;
        match (&self.store, self.key_type) {
            (Store::U32 { keys, .. }, KeyType::Integer) => Key::Integer(keys[at]),
            (Store::U32 { keys, .. }, _) => Key::Ip(Ipv4Addr::from(keys[at])),
            (Store::U128 { keys, .. }, _) => Key::Ipv6(Ipv6Addr::from(keys[at])),
            (Store::Bytes { keys, .. }, KeyType::Binary { .. }) => Key::Bin(keys[at].clone()),
            (Store::Bytes { keys, .. }, _) => Key::Str(keys[at].clone()),
        }
    }

    /// Bytes a key costs in this map: bucket (at 7/8 load), control byte,
    /// reverse entry.
    pub fn bytes_per_key(&self) -> usize {
        let (bucket, reverse) = match self.store {
            Store::U32 { .. } => (8, 4),
            Store::U128 { .. } => (32, 16),
            Store::Bytes { .. } => (24, 16),
        };
        (bucket + 1) * 8 / 7 + reverse
    }
}

fn put<K: std::hash::Hash + Eq + Clone>(
    map: &mut AHashMap<K, u32>,
    keys: &mut Vec<K>,
    at: usize,
    key: K,
    filler: K,
) {
    if keys.len() <= at {
        keys.resize(at + 1, filler);
    }
    keys[at] = key.clone();
    map.insert(key, at as u32);
}
