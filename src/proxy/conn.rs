//! The connection type of sessions, tunnels and the pool: plain TCP or TLS
//! over TCP (`crate::tls::Stream`), split into halves that read and write
//! at the same time. Plain TCP keeps tokio's lock-free borrowed split.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp;

use crate::tls::Stream;

/// A client or server connection.
pub type Conn = Stream<TcpStream>;

/// The read half of a split connection.
pub enum ReadHalf<'a> {
    Plain(tcp::ReadHalf<'a>),
    Tls(tokio::io::ReadHalf<&'a mut Conn>),
}

/// The write half of a split connection.
pub enum WriteHalf<'a> {
    Plain(tcp::WriteHalf<'a>),
    Tls(tokio::io::WriteHalf<&'a mut Conn>),
}

/// Splits a connection to copy both ways at once.
pub fn split(conn: &mut Conn) -> (ReadHalf<'_>, WriteHalf<'_>) {
    match conn {
        Stream::Plain(tcp) => {
            let (r, w) = tcp.split();
            (ReadHalf::Plain(r), WriteHalf::Plain(w))
        }
        tls @ Stream::Tls(_) => {
            let (r, w) = tokio::io::split(tls);
            (ReadHalf::Tls(r), WriteHalf::Tls(w))
        }
    }
}

impl ReadHalf<'_> {
    /// The socket under a plain TCP half (for splicing), `None` under TLS.
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            ReadHalf::Plain(r) => Some(r.as_ref()),
            ReadHalf::Tls(_) => None,
        }
    }
}

impl WriteHalf<'_> {
    /// The socket under a plain TCP half (for splicing), `None` under TLS.
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            WriteHalf::Plain(w) => Some(w.as_ref()),
            WriteHalf::Tls(_) => None,
        }
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Plain(r) => Pin::new(r).poll_read(cx, buf),
            ReadHalf::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Plain(w) => Pin::new(w).poll_write(cx, buf),
            WriteHalf::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Plain(w) => Pin::new(w).poll_write_vectored(cx, bufs),
            WriteHalf::Tls(w) => Pin::new(w).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WriteHalf::Plain(w) => w.is_write_vectored(),
            WriteHalf::Tls(w) => w.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Plain(w) => Pin::new(w).poll_flush(cx),
            WriteHalf::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Plain(w) => Pin::new(w).poll_shutdown(cx),
            WriteHalf::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}
