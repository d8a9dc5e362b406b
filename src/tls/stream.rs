//! TLS over any byte stream, for the data plane: the handshakes, and a
//! stream type that is either plain or TLS so that sessions, pools and the
//! byte pump need one code path. Generic over the transport: the sockets
//! stay in `proxy`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::info::TlsInfo;

/// A client or server connection of the data plane, with or without TLS.
#[derive(Debug)]
pub enum Stream<IO> {
    Plain(IO),
    Tls(Box<tokio_rustls::TlsStream<IO>>),
}

/// Why a handshake failed: the peer's fault (or a timeout) or the network.
/// Either way the connection is closed and counted; the worker goes on.
#[derive(Debug)]
pub struct HandshakeError {
    pub error: io::Error,
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SSL handshake failure: {}", self.error)
    }
}

impl std::error::Error for HandshakeError {}

/// Terminates TLS on an accepted connection: runs the handshake with the
/// bind's configuration and returns the stream with what the `ssl_fc*` and
/// `ssl_c_*` fetches read. The caller bounds it in time (`timeout client`).
pub async fn accept<IO>(
    config: Arc<ServerConfig>,
    io: IO,
) -> Result<(Stream<IO>, TlsInfo), HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    match acceptor.accept(io).await {
        Ok(stream) => {
            let info = TlsInfo::from_connection(stream.get_ref().1);
            Ok((Stream::Tls(Box::new(stream.into())), info))
        }
        Err(error) => Err(HandshakeError { error }),
    }
}

/// Opens TLS to a server over a connected transport. `name` comes from
/// `tls::server_name`. The caller bounds it in time (`timeout connect`).
pub async fn connect<IO>(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    io: IO,
) -> Result<Stream<IO>, HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let connector = tokio_rustls::TlsConnector::from(config);
    match connector.connect(name, io).await {
        Ok(stream) => Ok(Stream::Tls(Box::new(stream.into()))),
        Err(error) => Err(HandshakeError { error }),
    }
}

impl<IO> Stream<IO> {
    /// The transport under the TLS layer (for addresses and socket options).
    pub fn transport(&self) -> &IO {
        match self {
            Stream::Plain(io) => io,
            Stream::Tls(tls) => tls.get_ref().0,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(io) => Pin::new(io).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(io) => Pin::new(io).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(io) => io.is_write_vectored(),
            Stream::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(io) => Pin::new(io).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(io) => Pin::new(io).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
