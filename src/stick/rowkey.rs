//! How a shard's rows hold their keys: an IPv4 or integer key is one `u32`
//! word inside the row, an IPv6 key four words, so comparing a key while
//! probing reads the cache line the entry's data sits on. Only string and
//! binary keys live outside the row, in boxed bytes beside it.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::key::Key;
use super::spec::KeyType;

/// A key in its row form, borrowed from a [`Key`] for one lookup.
#[derive(Debug, Clone, Copy)]
pub enum Probe<'k> {
    Word(u32),
    Words([u32; 4]),
    Bytes(&'k [u8]),
}

impl<'k> Probe<'k> {
    /// The row form of `key` in a table of `key_type`; `None` for a key of
    /// another type (which no table operation accepts).
    #[inline]
    pub fn new(key_type: KeyType, key: &'k Key) -> Option<Probe<'k>> {
        match (key_type, key) {
            (KeyType::Ip, Key::Ip(v4)) => Some(Probe::Word(u32::from(*v4))),
            (KeyType::Integer, Key::Integer(n)) => Some(Probe::Word(*n)),
            (KeyType::Ipv6, Key::Ipv6(v6)) => Some(Probe::Words(to_words(u128::from(*v6)))),
            (KeyType::String { .. }, Key::Str(b)) | (KeyType::Binary { .. }, Key::Bin(b)) => {
                Some(Probe::Bytes(b))
            }
            _ => None,
        }
    }

    /// The key's hash: its high bits choose the shard, its low 32 bits the
    /// home bucket inside the shard.
    #[inline]
    pub fn hash(&self, hasher: &ahash::RandomState) -> u64 {
        match self {
            Probe::Word(w) => hasher.hash_one(w),
            Probe::Words(w) => hasher.hash_one(w),
            Probe::Bytes(b) => hasher.hash_one(b),
        }
    }

    /// Whether the row's inline key words (and out-of-row bytes) are this
    /// key.
    #[inline]
    pub fn matches(&self, inline: &[u32], bytes: Option<&[u8]>) -> bool {
        match self {
            Probe::Word(w) => inline.first() == Some(w),
            Probe::Words(w) => inline == w,
            Probe::Bytes(b) => bytes == Some(*b),
        }
    }

    /// Writes the inline words; returns the bytes to keep beside the row.
    pub fn store(&self, inline: &mut [u32]) -> Option<Box<[u8]>> {
        match self {
            Probe::Word(w) => inline.copy_from_slice(&[*w]),
            Probe::Words(w) => inline.copy_from_slice(w),
            Probe::Bytes(b) => return Some((*b).into()),
        }
        None
    }
}

/// Words a key of `key_type` takes inside a row.
pub fn inline_words(key_type: KeyType) -> usize {
    match key_type {
        KeyType::Ip | KeyType::Integer => 1,
        KeyType::Ipv6 => 4,
        KeyType::String { .. } | KeyType::Binary { .. } => 0,
    }
}

/// Whether keys of `key_type` keep bytes beside the row.
pub fn out_of_row(key_type: KeyType) -> bool {
    inline_words(key_type) == 0
}

/// The [`Key`] a row holds.
pub fn key_of(key_type: KeyType, inline: &[u32], bytes: &[u8]) -> Key {
    let word = |i: usize| inline.get(i).copied().unwrap_or(0);
    match key_type {
        KeyType::Ip => Key::Ip(Ipv4Addr::from(word(0))),
        KeyType::Integer => Key::Integer(word(0)),
        KeyType::Ipv6 => {
            let v = (0..4).fold(0u128, |v, i| (v << 32) | u128::from(word(i)));
            Key::Ipv6(Ipv6Addr::from(v))
        }
        KeyType::String { .. } => Key::Str(bytes.into()),
        KeyType::Binary { .. } => Key::Bin(bytes.into()),
    }
}

fn to_words(v: u128) -> [u32; 4] {
    [
        (v >> 96) as u32,
        (v >> 64) as u32,
        (v >> 32) as u32,
        v as u32,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_rows() {
        let keys = [
            (KeyType::Ip, Key::Ip(Ipv4Addr::new(10, 0, 0, 1))),
            (KeyType::Integer, Key::Integer(7)),
            (KeyType::Ipv6, Key::Ipv6("2001:db8::1".parse().unwrap())),
            (
                KeyType::String { len: 8 },
                Key::Str(b"abc".as_slice().into()),
            ),
        ];
        for (key_type, key) in keys {
            let probe = Probe::new(key_type, &key).unwrap();
            let mut inline = vec![0; inline_words(key_type)];
            let bytes = probe.store(&mut inline);
            assert!(probe.matches(&inline, bytes.as_deref()));
            let back = key_of(key_type, &inline, bytes.as_deref().unwrap_or(&[]));
            assert_eq!(back, key);
        }
        assert!(Probe::new(KeyType::Ip, &Key::Integer(1)).is_none());
    }
}
