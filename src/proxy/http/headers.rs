//! Connection management headers: the `Connection` tokens, hop-by-hop
//! removal before a message is forwarded, and `X-Forwarded-For`.

use std::io::Write;
use std::net::IpAddr;

use super::codec::trim_ows;
use crate::compile::program::ForwardFor;
use crate::rules::message::HeaderBlock;

/// The `Connection` options lbd acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnTokens {
    pub close: bool,
    pub keep_alive: bool,
    pub upgrade: bool,
}

impl ConnTokens {
    /// Notes the options of one `Connection` field's value.
    pub fn add(&mut self, value: &[u8]) {
        for token in value.split(|&b| b == b',').map(trim_ows) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if token.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }
}

/// Whether `name` (lowercase, as a [`HeaderBlock`] stores it) is a header
/// that only concerns one hop, always removed before forwarding.
/// `Transfer-Encoding` is one too: the body is re-framed on output.
fn is_hop_by_hop_name(name: &[u8]) -> bool {
    matches!(
        name,
        b"connection"
            | b"keep-alive"
            | b"proxy-connection"
            | b"te"
            | b"trailer"
            | b"transfer-encoding"
            | b"upgrade"
    )
}

/// [`is_hop_by_hop_name`] for a `Connection` token, in any case.
fn is_hop_by_hop_token(token: &[u8]) -> bool {
    let mut lower = [0u8; 17];
    match lower.get_mut(..token.len()) {
        Some(l) => {
            l.copy_from_slice(token);
            l.make_ascii_lowercase();
            is_hop_by_hop_name(l)
        }
        None => false,
    }
}

/// Removes hop-by-hop headers and every header named in `Connection`.
/// `keep_upgrade` keeps `Upgrade` for a tunnel request or a 101 response.
/// `scratch` is a reusable buffer (no allocation once warmed up). One pass
/// finds the fixed names and the `Connection` tokens; a second runs only
/// when a token names some other header.
pub fn strip_hop_by_hop(headers: &mut HeaderBlock, keep_upgrade: bool, scratch: &mut Vec<u8>) {
    scratch.clear();
    let mut doomed = Doomed::default();
    for (i, (name, value)) in headers.iter().enumerate() {
        if !is_hop_by_hop_name(name) {
            continue;
        }
        if name == b"connection" {
            for token in value.split(|&b| b == b',').map(trim_ows) {
                if !token.is_empty() && !is_hop_by_hop_token(token) {
                    scratch.extend_from_slice(token);
                    scratch.push(b',');
                }
            }
        }
        if !(keep_upgrade && name == b"upgrade") {
            doomed.push(i);
        }
    }
    if !scratch.is_empty() {
        for (i, (name, _)) in headers.iter().enumerate() {
            if !is_hop_by_hop_name(name) && named_by(scratch, name) {
                doomed.push(i);
            }
        }
    }
    doomed.remove_from(headers);
}

/// Whether `name` is one of the comma-separated `tokens`.
fn named_by(tokens: &[u8], name: &[u8]) -> bool {
    tokens
        .split(|&b| b == b',')
        .any(|t| t.len() == name.len() && t.eq_ignore_ascii_case(name))
}

/// Indexes of fields to remove: on the stack while there are few (a head
/// rarely has more than a few hop-by-hop fields), else in a vector.
#[derive(Default)]
struct Doomed {
    at: [usize; 8],
    len: usize,
    spill: Vec<usize>,
}

impl Doomed {
    fn push(&mut self, index: usize) {
        match self.at.get_mut(self.len) {
            Some(slot) if self.spill.is_empty() => {
                *slot = index;
                self.len += 1;
            }
            _ => {
                if self.spill.is_empty() {
                    self.spill.extend_from_slice(&self.at[..self.len]);
                }
                self.spill.push(index);
            }
        }
    }

    fn remove_from(mut self, headers: &mut HeaderBlock) {
        let at = if self.spill.is_empty() {
            &mut self.at[..self.len]
        } else {
            &mut self.spill[..]
        };
        at.sort_unstable();
        for &i in at.iter().rev() {
            headers.remove_at(i);
        }
    }
}

/// Appends `X-Forwarded-For: <client>` (or the configured header) unless the
/// client is in the `except` network or `if-none` finds one already.
pub fn add_forwarded_for(headers: &mut HeaderBlock, ff: &ForwardFor, client: IpAddr) {
    let client = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    if let Some((net, bits)) = ff.except
        && in_network(client, net, bits)
    {
        return;
    }
    let mut lower = [0u8; 64];
    let configured = ff.header.as_bytes();
    let name: &[u8] = if configured.len() <= lower.len() {
        let l = &mut lower[..configured.len()];
        l.copy_from_slice(configured);
        l.make_ascii_lowercase();
        l
    } else {
        configured
    };
    if ff.if_none && headers.contains(name) {
        return;
    }
    let mut text = [0u8; 48];
    let len = {
        let mut cursor = std::io::Cursor::new(&mut text[..]);
        if write!(cursor, "{client}").is_err() {
            return;
        }
        cursor.position() as usize
    };
    headers.push(name, &text[..len]);
}

/// Whether `ip` is inside `net/bits` (same address family only).
pub fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = u32::from(bits.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = u32::from(bits.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_named_headers() {
        let mut h = HeaderBlock::new();
        h.push(b"host", b"a");
        h.push(b"connection", b"close, X-Secret");
        h.push(b"x-secret", b"1");
        h.push(b"keep-alive", b"timeout=5");
        h.push(b"te", b"trailers");
        h.push(b"upgrade", b"websocket");
        let mut scratch = Vec::new();
        let mut kept = h.clone();
        strip_hop_by_hop(&mut h, false, &mut scratch);
        assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), vec![b"host"]);
        strip_hop_by_hop(&mut kept, true, &mut scratch);
        assert!(kept.contains(b"upgrade"));
        assert!(!kept.contains(b"connection"));
    }

    #[test]
    fn strips_many_hop_fields_and_every_named_one_keeping_order() {
        let mut h = HeaderBlock::new();
        h.push(b"host", b"a");
        for i in 0..12 {
            h.push(b"te", format!("t{i}").as_bytes());
            h.push(b"x-keep", format!("{i}").as_bytes());
        }
        h.push(b"x-a", b"1");
        h.push(b"connection", b"X-A, x-b,close , keep-alive");
        h.push(b"X-B", b"2");
        h.push(b"close", b"odd but named");
        h.push(b"x-last", b"z");
        strip_hop_by_hop(&mut h, false, &mut Vec::new());
        let names: Vec<&[u8]> = h.iter().map(|(n, _)| n).collect();
        let mut want: Vec<&[u8]> = vec![b"host"];
        want.extend(std::iter::repeat_n(&b"x-keep"[..], 12));
        want.push(b"x-last");
        assert_eq!(names, want);
        let kept: Vec<&[u8]> = h.values(b"x-keep").collect();
        assert_eq!(kept.first(), Some(&&b"0"[..]));
        assert_eq!(kept.last(), Some(&&b"11"[..]));
    }

    #[test]
    fn hop_by_hop_tokens_in_any_case_and_nothing_else() {
        for name in [
            "Connection",
            "KEEP-ALIVE",
            "proxy-connection",
            "TE",
            "Trailer",
            "transfer-encoding",
            "Upgrade",
        ] {
            assert!(is_hop_by_hop_token(name.as_bytes()), "{name}");
        }
        for name in [
            "tk",
            "trailers",
            "upgrades",
            "connectio",
            "keep-alivf",
            "host",
            "",
            "transfer-encodings",
        ] {
            assert!(!is_hop_by_hop_token(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn forwarded_for_honours_except_and_if_none() {
        let ff = ForwardFor {
            except: Some(("10.0.0.0".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])), 8)),
            header: "X-Forwarded-For".into(),
            if_none: false,
        };
        let mut h = HeaderBlock::new();
        add_forwarded_for(&mut h, &ff, IpAddr::from([10, 1, 2, 3]));
        assert!(h.is_empty());
        add_forwarded_for(&mut h, &ff, IpAddr::from([192, 0, 2, 7]));
        assert_eq!(h.first(b"x-forwarded-for"), Some(&b"192.0.2.7"[..]));
        let ff = ForwardFor {
            except: None,
            header: "X-Client".into(),
            if_none: true,
        };
        h.push(b"x-client", b"1.1.1.1");
        add_forwarded_for(&mut h, &ff, IpAddr::from([192, 0, 2, 7]));
        assert_eq!(h.values(b"x-client").count(), 1);
    }
}
