//! Reading the server name from a TLS ClientHello without terminating TLS
//! (`req.ssl_sni`, for routing TLS by name in `mode tcp`).
//!
//! The parser reads the first TLS record only, as HAProxy does, and checks
//! every length against what is buffered: any input gives an answer, never a
//! panic.

/// What the bytes received so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peek<'a> {
    /// A ClientHello may follow but more bytes are needed.
    Incomplete,
    /// Not a TLS ClientHello (or a malformed one).
    NotClientHello,
    /// A whole ClientHello; `sni` is its host name, if it sent one.
    ClientHello { sni: Option<&'a str> },
}

const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const EXTENSION_SERVER_NAME: u16 = 0;
const NAME_TYPE_HOST: u8 = 0;

/// The host name of the ClientHello at the start of `buf`, if there is a
/// whole one with a server_name extension.
pub fn peek_client_hello_sni(buf: &[u8]) -> Option<&str> {
    match peek_client_hello(buf) {
        Peek::ClientHello { sni } => sni,
        _ => None,
    }
}

/// Reads the ClientHello at the start of `buf`.
pub fn peek_client_hello(buf: &[u8]) -> Peek<'_> {
    let mut record = Reader(buf);
    let (Some(content_type), Some(major), Some(_minor), Some(length)) =
        (record.u8(), record.u8(), record.u8(), record.u16())
    else {
        return match buf.first() {
            Some(&b) if b != CONTENT_HANDSHAKE => Peek::NotClientHello,
            _ => Peek::Incomplete,
        };
    };
    if content_type != CONTENT_HANDSHAKE || major != 3 {
        return Peek::NotClientHello;
    }
    let Some(body) = record.bytes(usize::from(length)) else {
        return Peek::Incomplete;
    };
    let mut handshake = Reader(body);
    match (handshake.u8(), handshake.u24()) {
        (Some(HANDSHAKE_CLIENT_HELLO), Some(len)) => match handshake.bytes(len) {
            Some(hello) => match server_name(hello) {
                Some(sni) => Peek::ClientHello { sni },
                None => Peek::NotClientHello,
            },
            // The hello goes on in a next record: HAProxy reads only the first.
            None => Peek::NotClientHello,
        },
        _ => Peek::NotClientHello,
    }
}

/// Walks a ClientHello body to its server_name extension. `None` when the
/// body is malformed; `Some(None)` when well formed without a host name.
fn server_name(hello: &[u8]) -> Option<Option<&str>> {
    let mut r = Reader(hello);
    r.bytes(2 + 32)?; // client_version, random
    let session_id = usize::from(r.u8()?);
    r.bytes(session_id)?;
    let suites = usize::from(r.u16()?);
    r.bytes(suites)?;
    let compressions = usize::from(r.u8()?);
    r.bytes(compressions)?;
    if r.0.is_empty() {
        return Some(None); // no extensions at all
    }
    let extensions_len = usize::from(r.u16()?);
    let mut extensions = Reader(r.bytes(extensions_len)?);
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let len = usize::from(extensions.u16()?);
        let data = extensions.bytes(len)?;
        if kind == EXTENSION_SERVER_NAME {
            return host_name(data);
        }
    }
    Some(None)
}

fn host_name(data: &[u8]) -> Option<Option<&str>> {
    let mut r = Reader(data);
    let list_len = usize::from(r.u16()?);
    let mut list = Reader(r.bytes(list_len)?);
    while !list.0.is_empty() {
        let name_type = list.u8()?;
        let len = usize::from(list.u16()?);
        let name = list.bytes(len)?;
        if name_type == NAME_TYPE_HOST {
            return Some(std::str::from_utf8(name).ok().filter(|n| !n.is_empty()));
        }
    }
    Some(None)
}

/// A cursor over a byte slice whose reads fail instead of running past it.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<usize> {
        self.bytes(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
}
