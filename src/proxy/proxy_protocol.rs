//! `accept-proxy` on a bind: the PROXY protocol header (v1 text or v2
//! binary) a load balancer in front sends before the client's bytes. It
//! gives the real client address, which then stands for the peer everywhere
//! (balancing by source, X-Forwarded-For, send-proxy).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::error::ProxyError;

const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v1 line, CRLF included.
const V1_MAX: usize = 107;
/// The largest header read (v2 with TLVs beyond this is refused).
const MAX_HEADER: usize = 536;

/// A complete header: its length and the client address it announces
/// (`None` for `LOCAL` or `UNKNOWN`: keep the connection's own peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub len: usize,
    pub source: Option<SocketAddr>,
}

const BAD: ProxyError = ProxyError::BadRequest("invalid PROXY protocol header");

/// Parses a header at the start of `buf`; `Ok(None)`: incomplete.
pub fn parse(buf: &[u8]) -> Result<Option<Header>, ProxyError> {
    let probe = buf.len().min(V2_SIGNATURE.len());
    if buf[..probe] == V2_SIGNATURE[..probe] {
        return if buf.len() < 16 {
            Ok(None)
        } else {
            parse_v2(buf)
        };
    }
    let probe = buf.len().min(6);
    if buf[..probe] != b"PROXY "[..probe] {
        return Err(BAD);
    }
    let Some(lf) = buf.iter().take(V1_MAX).position(|&b| b == b'\n') else {
        return if buf.len() >= V1_MAX {
            Err(BAD)
        } else {
            Ok(None)
        };
    };
    if lf == 0 || buf[lf - 1] != b'\r' {
        return Err(BAD);
    }
    let line = std::str::from_utf8(&buf[6..lf - 1]).map_err(|_| BAD)?;
    let words: Vec<&str> = line.split(' ').collect();
    let source = match words.as_slice() {
        ["UNKNOWN", ..] => None,
        [family @ ("TCP4" | "TCP6"), src, _dst, sport, _dport] => {
            let ip: IpAddr = src.parse().map_err(|_| BAD)?;
            if (*family == "TCP4") != ip.is_ipv4() {
                return Err(BAD);
            }
            Some(SocketAddr::new(ip, sport.parse().map_err(|_| BAD)?))
        }
        _ => return Err(BAD),
    };
    Ok(Some(Header {
        len: lf + 1,
        source,
    }))
}

fn parse_v2(buf: &[u8]) -> Result<Option<Header>, ProxyError> {
    let ver_cmd = buf[12];
    let family = buf[13];
    let len = 16 + usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if ver_cmd >> 4 != 2 || len > MAX_HEADER {
        return Err(BAD);
    }
    if buf.len() < len {
        return Ok(None);
    }
    let body = &buf[16..len];
    let source = match (ver_cmd & 0xf, family) {
        (0, _) => None,
        (1, 0x11) if body.len() >= 12 => {
            let ip = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
            Some(SocketAddr::new(
                IpAddr::V4(ip),
                u16::from_be_bytes([body[8], body[9]]),
            ))
        }
        (1, 0x21) if body.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&body[..16]);
            let ip = Ipv6Addr::from(octets);
            Some(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be_bytes([body[32], body[33]]),
            ))
        }
        // UNSPEC or unix families: no usable address.
        (1, _) => None,
        _ => return Err(BAD),
    };
    Ok(Some(Header { len, source }))
}

/// Reads the header off `stream`. Returns the announced client address and
/// the bytes read past the header (the start of the client's data).
pub async fn read(stream: &mut TcpStream) -> Result<(Option<SocketAddr>, Vec<u8>), ProxyError> {
    let mut buf = [0u8; MAX_HEADER];
    let mut filled = 0;
    loop {
        let n = stream
            .read(&mut buf[filled..])
            .await
            .map_err(|_| ProxyError::ClientIo)?;
        if n == 0 {
            return Err(ProxyError::ClientClosed);
        }
        filled += n;
        if let Some(h) = parse(&buf[..filled])? {
            return Ok((h.source, buf[h.len..filled].to_vec()));
        }
        if filled == buf.len() {
            return Err(BAD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_headers() {
        let h = parse(b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 80\r\nGET /");
        assert_eq!(
            h,
            Ok(Some(Header {
                len: 43,
                source: Some(SocketAddr::from(([192, 0, 2, 1], 5000)))
            }))
        );
        assert_eq!(
            parse(b"PROXY UNKNOWN\r\n").map(|h| h.map(|h| h.source)),
            Ok(Some(None))
        );
        assert_eq!(parse(b"PROXY TCP4 192.0"), Ok(None));
        assert_eq!(parse(b"PRO"), Ok(None));
        assert!(parse(b"GET / HTTP/1.1\r\n").is_err());
        assert!(parse(b"PROXY TCP4 ::1 ::1 1 2\r\n").is_err());
        assert!(parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1\n").is_err());
    }

    #[test]
    fn v2_headers() {
        let mut h = V2_SIGNATURE.to_vec();
        h.extend_from_slice(&[
            0x21, 0x11, 0, 12, 10, 0, 0, 7, 10, 0, 0, 8, 0x1f, 0x90, 0, 80,
        ]);
        h.extend_from_slice(b"data");
        let got = parse(&h);
        assert_eq!(
            got,
            Ok(Some(Header {
                len: 28,
                source: Some(SocketAddr::from(([10, 0, 0, 7], 8080)))
            }))
        );
        assert_eq!(parse(&h[..20]), Ok(None));
        let mut local = V2_SIGNATURE.to_vec();
        local.extend_from_slice(&[0x20, 0x00, 0, 0]);
        assert_eq!(parse(&local).map(|h| h.map(|h| h.source)), Ok(Some(None)));
    }
}
