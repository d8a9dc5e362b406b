//! Addresses as HAProxy writes them: `ipv4@`/`ipv6@`/`unix@` prefixes,
//! `[v6]:port`, `*:port`, `:port`, host names, port ranges on binds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// A parsed address before port handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    /// An IP address or a wildcard with a port range (first..=last).
    Inet { ip: IpAddr, ports: (u16, u16) },
    /// A unix socket path.
    Unix(PathBuf),
}

/// Which family a prefix forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

/// Parses `text` as HAProxy does for `bind` and `server`. `allow_range`
/// accepts `80-85`; `resolve` allows host names (looked up now, first IPv4
/// address preferred as with `init-addr libc`).
pub fn parse(text: &str, allow_range: bool, resolve: bool) -> Result<Addr, String> {
    let (family, rest) = split_prefix(text)?;
    if let Some(path) = rest.strip_prefix('/').map(|_| rest) {
        return Ok(Addr::Unix(PathBuf::from(path)));
    }
    if family == Family::Any && text.starts_with("unix@") {
        return Ok(Addr::Unix(PathBuf::from(rest)));
    }
    let (host, port_text) = split_host_port(rest)?;
    let ports = parse_ports(port_text, allow_range)?;
    let ip = parse_host(host, family, resolve)?;
    Ok(Addr::Inet { ip, ports })
}

fn split_prefix(text: &str) -> Result<(Family, &str), String> {
    if let Some((prefix, rest)) = text.split_once('@') {
        return match prefix {
            "ipv4" => Ok((Family::V4, rest)),
            "ipv6" => Ok((Family::V6, rest)),
            "unix" => Ok((Family::Any, rest)),
            "abns" | "fd" | "sockpair" | "udp" | "udp4" | "udp6" | "quic4" | "quic6" | "uxst"
            | "uxdg" | "tcp" | "tcp4" | "tcp6" | "stream" | "dgram" => Err(format!(
                "address prefix '{prefix}@' is not supported by lbd"
            )),
            _ => Err(format!("unknown address prefix '{prefix}@'")),
        };
    }
    Ok((Family::Any, text))
}

/// Splits `host:port`; the port follows the last colon, except inside
/// brackets. An address without a colon has no port.
fn split_host_port(text: &str) -> Result<(&str, &str), String> {
    if let Some(inner) = text.strip_prefix('[') {
        let (host, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("missing ']' in address '{text}'"))?;
        let port = match after {
            "" => "",
            p => p
                .strip_prefix(':')
                .ok_or_else(|| format!("unexpected text after ']' in '{text}'"))?,
        };
        return Ok((host, port));
    }
    match text.rfind(':') {
        Some(i) => Ok((&text[..i], &text[i + 1..])),
        None => Ok((text, "")),
    }
}

fn parse_ports(text: &str, allow_range: bool) -> Result<(u16, u16), String> {
    if text.is_empty() {
        return Err("missing port".to_string());
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("invalid port '{p}'"))
    };
    match text.split_once('-') {
        Some((a, b)) if allow_range => {
            let (first, last) = (port(a)?, port(b)?);
            if first > last {
                return Err(format!("invalid port range '{text}'"));
            }
            Ok((first, last))
        }
        Some(_) => Err(format!("port ranges are not allowed here, got '{text}'")),
        None => port(text).map(|p| (p, p)),
    }
}

fn parse_host(host: &str, family: Family, resolve: bool) -> Result<IpAddr, String> {
    if host.is_empty() || host == "*" {
        return Ok(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match (family, ip) {
            (Family::V4, IpAddr::V6(_)) => Err(format!("'{host}' is not an IPv4 address")),
            (Family::V6, IpAddr::V4(v4)) => Ok(IpAddr::V6(v4.to_ipv6_mapped())),
            _ => Ok(ip),
        };
    }
    if !resolve {
        return Err(format!("invalid address '{host}'"));
    }
    let found: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|_| format!("could not resolve address '{host}'"))?
        .map(|sa| sa.ip())
        .collect();
    let pick = |v6: bool| found.iter().copied().find(|ip| ip.is_ipv6() == v6);
    match family {
        Family::V6 => pick(true),
        _ => pick(false).or_else(|| pick(true)),
    }
    .ok_or_else(|| format!("could not resolve address '{host}'"))
}

/// Every socket address of a parsed inet address (one per port of a range).
pub fn expand(ip: IpAddr, ports: (u16, u16)) -> Vec<SocketAddr> {
    (ports.0..=ports.1)
        .map(|p| SocketAddr::new(ip, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(text: &str) -> (IpAddr, (u16, u16)) {
        match parse(text, true, false) {
            Ok(Addr::Inet { ip, ports }) => (ip, ports),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn haproxy_address_forms() {
        assert_eq!(inet("127.0.0.1:80").1, (80, 80));
        assert_eq!(inet("*:8080").0, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(inet(":8080").0, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(inet("[::1]:21070").0, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(inet(":::80").0, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert_eq!(inet("ipv6@:80").0, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert_eq!(inet("ipv4@127.0.0.1:81-83").1, (81, 83));
        assert_eq!(
            parse("unix@admin.sock", false, false),
            Ok(Addr::Unix(PathBuf::from("admin.sock")))
        );
        assert_eq!(
            parse("/run/lbd.sock", false, false),
            Ok(Addr::Unix(PathBuf::from("/run/lbd.sock")))
        );
    }

    #[test]
    fn bad_addresses_say_why() {
        assert_eq!(parse("127.0.0.1", false, false), Err("missing port".into()));
        assert_eq!(
            parse("127.0.0.1:99999", false, false),
            Err("invalid port '99999'".into())
        );
        assert!(parse("127.0.0.1:80-81", false, false).is_err());
        assert!(parse("nosuch@1.2.3.4:80", false, false).is_err());
        assert!(parse("ipv4@::1:80", false, false).is_err());
    }
}
