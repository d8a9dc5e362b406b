//! The keys and hashes of the hash-based algorithms (`source`, `uri`,
//! `url_param`, `hdr`), as HAProxy 2.6 computes them with its default
//! `hash-type map-based` (function sdbm, no avalanche). The hash then picks a
//! slot of the weighted map (`map.rs`) or, with `hash-type consistent`, a
//! point of the ring (`ring.rs`).
//!
//! What each function hashes was established by running HAProxy 2.6 on
//! chosen keys and reading which server answered (`hash_tests.rs` keeps the
//! captured tables).

use std::net::IpAddr;

use crate::compile::program::{HashFunction, HashType};
use crate::rules::message::RequestHead;

/// A request key's hash under `hash-type`: the function, then the
/// avalanche if asked for.
pub fn key(hash_type: HashType, data: &[u8]) -> u32 {
    let h = match hash_type.function {
        HashFunction::Sdbm => sdbm(data),
        HashFunction::Djb2 => djb2(data),
        HashFunction::Crc32 => crc32(data),
    };
    finish(hash_type, h)
}

/// The `avalanche` modifier, when set, on a computed hash (the source
/// address's too).
pub fn finish(hash_type: HashType, h: u32) -> u32 {
    if hash_type.avalanche { avalanche(h) } else { h }
}

/// The sdbm string hash: for each byte, `h = byte + h * 65599` (mod 2^32).
/// HAProxy's default hash function; the empty key hashes to 0.
pub fn sdbm(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |h, &b| {
        u32::from(b).wrapping_add(h.wrapping_mul(65599))
    })
}

/// The djb2 string hash: from 5381, `h = h * 33 + byte` (mod 2^32).
pub fn djb2(data: &[u8]) -> u32 {
    data.iter().fold(5381u32, |h, &b| {
        h.wrapping_mul(33).wrapping_add(u32::from(b))
    })
}

/// CRC-32 as in Ethernet, gzip and PNG (reflected polynomial 0xEDB88320,
/// initial and final inversion).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| {
        let idx = ((crc ^ u32::from(b)) & 0xff) as usize;
        (crc >> 8) ^ CRC32_TABLE[idx]
    })
}

const CRC32_TABLE: [u32; 256] = crc32_table();

const fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// The `avalanche` modifier as HAProxy 2.6 applies it: Bob Jenkins'
/// six-step 32-bit integer mix, then minus itself shifted left by 30 bits.
/// That last step was found by comparing the published mix with HAProxy's
/// picks among 251 equal servers: the low 30 bits always agreed and the top
/// two differed by exactly that term.
pub fn avalanche(h: u32) -> u32 {
    let mut a = h;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_sub(a << 30)
}

/// `balance source`: the address folded to 32 bits by XOR of its
/// big-endian 32-bit words. An IPv4 address is its own hash; an IPv6 address
/// (IPv4-mapped ones included, as a dual-stack listener reports them) is
/// the XOR of its four words. No sdbm, no avalanche.
pub fn source(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6
            .octets()
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .fold(0, |h, w| h ^ w),
    }
}

/// The part of the URI that `balance uri` hashes: the URI as the client
/// sent it (an absolute URI keeps its scheme and authority) up to the first
/// `?`, or all of it with `whole`; then cut before the slash that would
/// exceed `depth` slashes, and to at most `len` bytes (0 = no limit).
pub fn uri_key(req: &RequestHead, whole: bool, len: u32, depth: u32) -> &[u8] {
    let uri = req.uri();
    let mut key = if whole {
        uri
    } else {
        let end = uri.iter().position(|&b| b == b'?').unwrap_or(uri.len());
        &uri[..end]
    };
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

/// The value of the first query parameter named exactly `name` (case
/// matters): from after its `=` to the next `&`. An empty value is a value
/// (it hashes to 0); a parameter without `=` is not a match.
pub fn url_param<'a>(req: &'a RequestHead, name: &[u8]) -> Option<&'a [u8]> {
    let query = req.query()?;
    query.split(|&b| b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        (&pair[..eq] == name).then(|| &pair[eq + 1..])
    })
}

/// What `balance hdr(name)` hashes from the header's first field: its first
/// comma-separated element (commas inside double quotes do not separate),
/// without surrounding blanks, reduced to the domain with
/// `use_domain_only`. `None` when that element is empty: the pick then falls
/// back to round robin.
pub fn hdr_key(value: &[u8], use_domain_only: bool) -> Option<&[u8]> {
    let first = trim(first_element(value));
    if first.is_empty() {
        return None;
    }
    Some(if use_domain_only {
        domain(first)
    } else {
        first
    })
}

/// The bytes before the first comma that is not inside a quoted string.
fn first_element(value: &[u8]) -> &[u8] {
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b',' if !quoted => return &value[..i],
            _ => {}
        }
    }
    value
}

fn trim(v: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !blank(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !blank(b)).map_or(start, |e| e + 1);
    &v[start..end]
}

/// `use_domain_only`: the label before the last dot, so `www.example.com`
/// and `example.com:8080` give `example` and `localhost` stays whole.
///
/// HAProxy's edge cases, as observed: a dot in the first byte never counts
/// as the last dot (`.com` stays whole), and the dot right before the last
/// one does not end the search for the label's start (`a..b` gives `a.`,
/// `x..` gives `x.`). HAProxy also peeks at the byte after the value, so a
/// value directly followed by a `.` in its buffer hashes differently; lbd
/// treats that byte as absent.
pub fn domain(host: &[u8]) -> &[u8] {
    let Some(end) = (1..host.len()).rev().find(|&i| host[i] == b'.') else {
        return host;
    };
    let start = (0..end.saturating_sub(1))
        .rev()
        .find(|&i| host[i] == b'.')
        .map_or(0, |i| i + 1);
    &host[start..end]
}
