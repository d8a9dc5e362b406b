//! Typed stick-table keys: built from sample values or runtime-API text,
//! printed and ordered as `show table` does.
//!
//! * `ip`: an IPv4 address, ordered numerically. An IPv6 sample maps to a
//!   key only when it is v4-mapped (`::ffff:a.b.c.d`); any other IPv6 client
//!   is not tracked in an `ip` table, as in HAProxy.
//! * `ipv6`: an IPv6 address; IPv4 samples are stored v4-mapped. Printed in
//!   the compressed form of glibc's `inet_ntop`.
//! * `integer`: an unsigned 32-bit value (HAProxy keys the tree on a `u32`
//!   and prints it with `%u`); integer samples are truncated to 32 bits.
//! * `string`: bytes truncated to the table's `len`, ordered bytewise,
//!   printed with blanks and control characters backslash-escaped.
//! * `binary`: bytes zero-padded or truncated to exactly `len`, printed as
//!   upper-case hex of all `len` bytes.
//!
//! Runtime-API text: [`Key::parse`] is strict (an `ip` key must be a dotted
//! quad) and is what lbd uses by default, so a typo is an `Invalid key` error
//! instead of silently addressing `0.0.0.0`. [`Key::parse_lenient`]
//! reproduces HAProxy 2.6's quirk (`haproxy-cli.md` §7: `notanip` and `::1`
//! → `0.0.0.0`, `10.1` → `10.1.0.0`) for callers that want byte-for-byte
//! compatibility. Both reject what HAProxy rejects for the other types.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::spec::KeyType;

/// A key of one table. Variants match [`KeyType`]; `Str` and `Bin` hold
/// already truncated (and, for `Bin`, padded) bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Ip(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Integer(u32),
    Str(Box<[u8]>),
    Bin(Box<[u8]>),
}

/// Why runtime-API text is not a key of the table's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// HAProxy's `Invalid key`.
    Invalid,
    /// Binary tables cannot be written or looked up from text.
    UnsupportedType,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::Invalid => "invalid key",
            KeyError::UnsupportedType => "key type not supported from text",
        })
    }
}

impl std::error::Error for KeyError {}

impl Key {
    /// The key for an address sample (`src`, `dst`), or `None` when the
    /// table cannot hold it (non-mapped IPv6 in an `ip` table, or a table
    /// whose keys are not addresses).
    pub fn from_ip(key_type: KeyType, addr: IpAddr) -> Option<Key> {
        match (key_type, addr) {
            (KeyType::Ip, IpAddr::V4(v4)) => Some(Key::Ip(v4)),
            (KeyType::Ip, IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(Key::Ip),
            (KeyType::Ipv6, IpAddr::V4(v4)) => Some(Key::Ipv6(v4.to_ipv6_mapped())),
            (KeyType::Ipv6, IpAddr::V6(v6)) => Some(Key::Ipv6(v6)),
            _ => None,
        }
    }

    /// The key for an integer sample: truncated to 32 bits for `integer`
    /// tables, or its decimal text for `string` tables.
    pub fn from_int(key_type: KeyType, value: i64) -> Option<Key> {
        match key_type {
            // Truncation is HAProxy's behaviour (the tree key is a u32).
            KeyType::Integer => Some(Key::Integer(value as u32)),
            KeyType::String { .. } => Key::from_bytes(key_type, value.to_string().as_bytes()),
            _ => None,
        }
    }

    /// The key for a string or binary sample, truncated (and for binary
    /// tables zero-padded) to the table's `len`. For address tables the
    /// bytes must be an address's text (HAProxy's string-to-address cast).
    pub fn from_bytes(key_type: KeyType, bytes: &[u8]) -> Option<Key> {
        match key_type {
            KeyType::Ip | KeyType::Ipv6 => {
                let addr = std::str::from_utf8(bytes).ok()?.parse().ok()?;
                Key::from_ip(key_type, addr)
            }
            KeyType::String { len } => {
                let n = bytes.len().min(len as usize);
                Some(Key::Str(bytes[..n].into()))
            }
            KeyType::Binary { len } => {
                let mut buf = vec![0u8; len as usize];
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                Some(Key::Bin(buf.into_boxed_slice()))
            }
            _ => None,
        }
    }

    /// Strict parse of runtime-API text (already unescaped by the CLI).
    pub fn parse(key_type: KeyType, text: &str) -> Result<Key, KeyError> {
        match key_type {
            KeyType::Ip => text.parse().map(Key::Ip).map_err(|_| KeyError::Invalid),
            _ => parse_non_ip(key_type, text),
        }
    }

    /// HAProxy 2.6's lenient parse: for `ip` tables, leading dotted decimal
    /// bytes are read and the rest is zero, so any text is a key.
    pub fn parse_lenient(key_type: KeyType, text: &str) -> Result<Key, KeyError> {
        match key_type {
            KeyType::Ip => Ok(Key::Ip(lenient_ipv4(text))),
            _ => parse_non_ip(key_type, text),
        }
    }
}

fn parse_non_ip(key_type: KeyType, text: &str) -> Result<Key, KeyError> {
    match key_type {
        KeyType::Ipv6 => text.parse().map(Key::Ipv6).map_err(|_| KeyError::Invalid),
        KeyType::Integer => {
            let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            let value = if digits {
                text.parse::<u32>().ok()
            } else {
                None
            };
            value.map(Key::Integer).ok_or(KeyError::Invalid)
        }
        KeyType::String { .. } => {
            Key::from_bytes(key_type, text.as_bytes()).ok_or(KeyError::Invalid)
        }
        KeyType::Binary { .. } | KeyType::Ip => Err(KeyError::UnsupportedType),
    }
}

/// Up to four dot-separated decimal bytes from the start of `text`; parsing
/// stops at the first thing that is not one, the missing bytes are zero.
fn lenient_ipv4(text: &str) -> Ipv4Addr {
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(text.split('.')) {
        match part.parse::<u8>() {
            Ok(b) if part.bytes().all(|c| c.is_ascii_digit()) => *slot = b,
            _ => break,
        }
    }
    Ipv4Addr::from(octets)
}

impl fmt::Display for Key {
    /// The `key=` field of `show table`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Ip(v4) => write!(f, "{v4}"),
            Key::Ipv6(v6) => write_ipv6(f, v6),
            Key::Integer(n) => write!(f, "{n}"),
            Key::Str(bytes) => write_escaped(f, bytes),
            Key::Bin(bytes) => bytes.iter().try_for_each(|b| write!(f, "{b:02X}")),
        }
    }
}

/// glibc's `inet_ntop` form. It differs from Rust's `Display` only for the
/// deprecated IPv4-compatible addresses `::a.b.c.d`, which glibc prints with
/// a dotted tail when the first 96 bits are zero (except `::` and `::1`-like
/// addresses whose seventh word is zero too).
fn write_ipv6(f: &mut fmt::Formatter<'_>, v6: &Ipv6Addr) -> fmt::Result {
    let seg = v6.segments();
    if seg[..6].iter().all(|&s| s == 0) && seg[6] != 0 {
        let o = v6.octets();
        return write!(f, "::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    write!(f, "{v6}")
}

/// String keys as HAProxy's `dump_text` prints them: stop at NUL, escape
/// blanks, `\`, `=` and common controls with a backslash, other
/// non-printable bytes as `\xHH`.
fn write_escaped(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for &b in bytes.iter().take_while(|&&b| b != 0) {
        match b {
            b' ' | b'\\' | b'=' => write!(f, "\\{}", b as char)?,
            b'\t' => f.write_str("\\t")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            0x1b => f.write_str("\\e")?,
            0x21..=0x7e => write!(f, "{}", b as char)?,
            _ => write!(f, "\\x{b:02X}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
