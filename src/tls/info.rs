//! What a finished handshake tells the `ssl_fc*` and `ssl_c_*` fetches.

use rustls::{ProtocolVersion, ServerConnection};

use super::cipher;
use super::der::{self, NameEntry};

/// The TLS facts of a client connection, taken once the handshake is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `ssl_fc_sni`: the name the client asked for.
    pub sni: Option<String>,
    /// `ssl_fc_protocol`: `TLSv1.2` or `TLSv1.3`.
    pub protocol: Option<&'static str>,
    /// `ssl_fc_alpn`: the protocol agreed by ALPN.
    pub alpn: Option<Vec<u8>>,
    /// `ssl_fc_cipher`: OpenSSL's name of the suite.
    pub cipher: Option<&'static str>,
    /// `ssl_c_used`: the client sent a certificate.
    pub client_cert_used: bool,
    /// `ssl_c_verify`: 0 when the certificate was verified (or none was
    /// sent). A certificate that fails verification ends the handshake with
    /// `verify optional` as with `verify required` (lbd has no
    /// `ca-ignore-err`), so a finished one always reports 0.
    pub client_verify: u32,
    /// `ssl_c_s_dn`: the subject of the client's certificate.
    pub client_subject: Vec<NameEntry>,
}

impl TlsInfo {
    /// Reads the facts from a connection whose handshake is complete.
    pub fn from_connection(conn: &ServerConnection) -> TlsInfo {
        let leaf = conn.peer_certificates().and_then(|certs| certs.first());
        TlsInfo {
            sni: conn.server_name().map(str::to_string),
            protocol: conn.protocol_version().and_then(protocol_name),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            cipher: conn
                .negotiated_cipher_suite()
                .and_then(|s| cipher::openssl_name(s.suite())),
            client_cert_used: leaf.is_some(),
            client_verify: 0,
            client_subject: leaf.and_then(|c| der::subject(c)).unwrap_or_default(),
        }
    }

    /// `ssl_c_s_dn`: the whole subject as OpenSSL's one-line form,
    /// `/C=FR/O=Example/CN=client`; `None` without a client certificate.
    pub fn client_subject_dn(&self) -> Option<String> {
        if !self.client_cert_used {
            return None;
        }
        let mut dn = String::new();
        for entry in &self.client_subject {
            dn.push('/');
            dn.push_str(&entry.short_name());
            dn.push('=');
            dn.push_str(&entry.value);
        }
        Some(dn)
    }

    /// `ssl_c_s_dn(<field>[,<occurrence>])`: the value of one attribute by
    /// its short name (`CN`, `O`, ...) or dotted OID. `occurrence` counts
    /// from 1 at the start, or from -1 at the end; 0 means the last one, as
    /// HAProxy does when no occurrence is given.
    pub fn client_subject_entry(&self, field: &str, occurrence: i32) -> Option<&str> {
        let matching: Vec<&NameEntry> = self
            .client_subject
            .iter()
            .filter(|e| e.short_name() == field)
            .collect();
        let index = match occurrence {
            0 => matching.len().checked_sub(1)?,
            n if n > 0 => usize::try_from(n - 1).ok()?,
            n => matching
                .len()
                .checked_sub(usize::try_from(n.unsigned_abs()).ok()?)?,
        };
        matching.get(index).map(|e| e.value.as_str())
    }
}

/// HAProxy's spelling of a protocol version.
pub fn protocol_name(version: ProtocolVersion) -> Option<&'static str> {
    match version {
        ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
        ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
        _ => None,
    }
}
