//! Hash-based algorithms (`source`, `uri`, `url_param`, `hdr`): a stable hash
//! of a key, mapped onto the candidates in proportion to their weights
//! (HAProxy's default `hash-type map-based`).

use std::net::IpAddr;

use super::Candidates;
use crate::rules::message::RequestHead;

/// FNV-1a with a final avalanche, so that keys differing in one byte land on
/// unrelated servers.
pub fn hash_bytes(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

pub fn source(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => hash_bytes(&v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => hash_bytes(&v4.octets()),
            None => hash_bytes(&v6.octets()),
        },
    }
}

/// Maps a hash onto the candidates by weight. The caller guarantees there is
/// at least one candidate.
pub fn by_hash(h: u32, cands: &Candidates<'_>) -> Option<u32> {
    let total: u64 = cands
        .iter()
        .map(|i| u64::from(cands.servers[i].state.weight().max(1)))
        .sum();
    if total == 0 {
        return None;
    }
    let mut target = u64::from(h) % total;
    for i in cands.iter() {
        let w = u64::from(cands.servers[i].state.weight().max(1));
        if target < w {
            return Some(i as u32);
        }
        target -= w;
    }
    None
}

/// The part of the URI that `balance uri` hashes: the path (or the whole URI
/// with `whole`), cut after `depth` directories and `len` characters.
pub fn uri_key(req: &RequestHead, whole: bool, len: u32, depth: u32) -> &[u8] {
    let mut key = if whole { req.uri() } else { req.path() };
    if depth > 0 {
        let mut slashes = 0;
        if let Some(end) = key.iter().position(|&b| {
            if b == b'/' {
                slashes += 1;
            }
            slashes > depth
        }) {
            key = &key[..end];
        }
    }
    if len > 0 && key.len() > len as usize {
        key = &key[..len as usize];
    }
    key
}

/// The value of query parameter `name`, if present.
pub fn url_param<'a>(req: &'a RequestHead, name: &[u8]) -> Option<&'a [u8]> {
    let query = req.query()?;
    query.split(|&b| b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        (&pair[..eq] == name).then(|| &pair[eq + 1..])
    })
}

/// With `use_domain_only`, the domain part of a host name: `www.example.com:80`
/// → `example`.
pub fn hdr_key(value: &[u8], use_domain_only: bool) -> &[u8] {
    if !use_domain_only {
        return value;
    }
    let host = match value.iter().position(|&b| b == b':') {
        Some(p) => &value[..p],
        None => value,
    };
    let mut labels = host.rsplit(|&b| b == b'.');
    let last = labels.next().unwrap_or(host);
    labels.next().unwrap_or(last)
}
