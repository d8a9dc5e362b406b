//! TLS with rustls: server configurations for `bind ... ssl` (certificate
//! files and directories, crt-lists, SNI selection, ALPN, versions, ciphers,
//! client certificates), client configurations for `server ... ssl`, the
//! facts a finished handshake gives the `ssl_*` fetches, and a ClientHello
//! reader for `req.ssl_sni`.
//!
//! This module sees only the compiled program's types; sockets stay in
//! `proxy`, which wraps its streams with tokio-rustls using these configs.

mod bind;
mod certfile;
mod cipher;
mod crtlist;
mod der;
mod error;
mod hello;
mod info;
mod server;
mod set;
mod sni;
mod stream;

#[cfg(test)]
mod tests;

use rustls::crypto::CryptoProvider;

pub use bind::{BindSetup, bind_config, bind_setup};
pub use certfile::{LoadedCert, load_file, load_path};
pub use crtlist::CrtListEntry;
pub use der::NameEntry;
pub use error::TlsError;
pub use hello::{Peek, peek_client_hello, peek_client_hello_sni};
pub use info::{TlsInfo, protocol_name};
pub use server::{server_connector, server_name};
pub use set::{Problem, Severity, TlsSet, validate};
pub use sni::{SniCert, SniResolver};
pub use stream::{HandshakeError, Stream, accept, connect};

/// The crypto provider every lbd TLS configuration uses.
///
/// ring, chosen on measurements (handshakes per second and build time, see
/// `benches/tls_handshake.rs`). It is passed explicitly everywhere, so
/// enabling another provider's cargo feature never makes rustls guess.
pub fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}
