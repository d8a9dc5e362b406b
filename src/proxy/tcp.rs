//! `mode tcp` forwarding and HTTP tunnels: bytes copied both ways, each
//! direction on its own so one blocked peer never stalls the other, a FIN in
//! one direction forwarded as a write shutdown (half-close), and one idle
//! timeout over both directions (`timeout tunnel`, else client/server).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::conn::{self, Conn};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::error::ProxyError;
use super::http::buffer::Buf;
use super::http::timer::LazyTimer;
use super::splice::{Lease, Pipes};
use crate::stats::Counters;

/// The counters a tunnel adds its bytes to.
#[derive(Clone, Copy)]
pub struct Meters<'a> {
    pub frontend: &'a Counters,
    pub backend: &'a Counters,
    pub server: &'a Counters,
    /// The session's own totals (for its tracked stick table entries).
    pub session: Option<&'a Transferred>,
    /// The server's `shutdown sessions` generation: the tunnel ends when it
    /// moves (`shutdown sessions server` on the runtime API).
    pub shutdown: Option<&'a AtomicU32>,
}

/// How often a tunnel looks at its server's shutdown generation.
const SHUTDOWN_POLL: Duration = Duration::from_millis(200);

/// Resolves once `generation` differs from what it was when called.
async fn shutdown_requested(generation: Option<&AtomicU32>) {
    let Some(generation) = generation else {
        return std::future::pending().await;
    };
    let seen = generation.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(SHUTDOWN_POLL);
    loop {
        tick.tick().await;
        if generation.load(Ordering::Relaxed) != seen {
            return;
        }
    }
}

/// Bytes one session moved, client to server (`bytes_in`) and back.
#[derive(Debug, Default)]
pub struct Transferred {
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

impl Meters<'_> {
    fn add_in(&self, n: u64) {
        Counters::add(&self.frontend.bytes_in, n);
        Counters::add(&self.backend.bytes_in, n);
        Counters::add(&self.server.bytes_in, n);
        if let Some(s) = self.session {
            Counters::add(&s.bytes_in, n);
        }
    }

    fn add_out(&self, n: u64) {
        Counters::add(&self.frontend.bytes_out, n);
        Counters::add(&self.backend.bytes_out, n);
        Counters::add(&self.server.bytes_out, n);
        if let Some(s) = self.session {
            Counters::add(&s.bytes_out, n);
        }
    }
}

/// How a tunnel moves its bytes.
#[derive(Clone, Copy)]
pub struct Transport<'a> {
    /// The idle timeout over both directions.
    pub idle_ms: Option<u64>,
    /// The copy buffer of a direction that does not splice.
    pub bufsize: usize,
    /// Pipes for splicing between plain TCP sockets; `None` always copies.
    pub pipes: Option<&'a Pipes>,
}

/// Copies both ways until both directions have ended. `to_server` and
/// `to_client` are bytes already read from one side (a pipelined request, an
/// early WebSocket frame) that go out first.
pub async fn pipe(
    client: &mut Conn,
    server: &mut Conn,
    transport: Transport<'_>,
    meters: Meters<'_>,
    to_server: &[u8],
    to_client: &[u8],
) -> Result<(), ProxyError> {
    let Transport {
        idle_ms,
        bufsize,
        pipes,
    } = transport;
    let activity = Activity {
        base: Instant::now(),
        last_ms: AtomicU64::new(0),
        idle_ms,
    };
    let (mut cr, mut cw) = conn::split(client);
    let (mut sr, mut sw) = conn::split(server);
    let up = async {
        if !to_server.is_empty() {
            sw.write_all(to_server)
                .await
                .map_err(|_| ProxyError::ServerIo)?;
            meters.add_in(to_server.len() as u64);
        }
        match spliceable(pipes, &cr, &sw) {
            Some((from, to, lease)) => {
                splice_half(from, to, lease, &activity, Dir::Up, meters).await
            }
            None => copy_half(&mut cr, &mut sw, &activity, bufsize, Dir::Up, meters).await,
        }
    };
    let down = async {
        if !to_client.is_empty() {
            cw.write_all(to_client)
                .await
                .map_err(|_| ProxyError::ClientIo)?;
            meters.add_out(to_client.len() as u64);
        }
        match spliceable(pipes, &sr, &cw) {
            Some((from, to, lease)) => {
                splice_half(from, to, lease, &activity, Dir::Down, meters).await
            }
            None => copy_half(&mut sr, &mut cw, &activity, bufsize, Dir::Down, meters).await,
        }
    };
    let killed = shutdown_requested(meters.shutdown);
    tokio::select! {
        r = async { tokio::try_join!(up, down) } => r.map(|_| ()),
        () = killed => Err(ProxyError::Killed),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// Last activity in either direction, for the shared idle timeout.
struct Activity {
    base: Instant,
    last_ms: AtomicU64,
    idle_ms: Option<u64>,
}

impl Activity {
    fn touch(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// When the tunnel expires if nothing happens before.
    fn deadline(&self, idle: u64) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed) + idle)
    }
}

/// The two sockets and a pipe when one direction can splice: both ends
/// plain TCP and a pipe to spare.
fn spliceable<'s, 'p>(
    pipes: Option<&'p Pipes>,
    from: &'s conn::ReadHalf<'_>,
    to: &'s conn::WriteHalf<'_>,
) -> Option<(&'s TcpStream, &'s TcpStream, Lease<'p>)> {
    let (from, to) = (from.tcp()?, to.tcp()?);
    Some((from, to, pipes?.lease()?))
}

impl Dir {
    /// The errors of this direction: reading, writing, and idle timeout.
    fn errors(self) -> (ProxyError, ProxyError, ProxyError) {
        match self {
            Dir::Up => (
                ProxyError::ClientIo,
                ProxyError::ServerIo,
                ProxyError::ClientTimeout,
            ),
            Dir::Down => (
                ProxyError::ServerIo,
                ProxyError::ClientIo,
                ProxyError::ServerTimeout,
            ),
        }
    }
}

/// Runs `io` (a read) under the tunnel's idle timeout; `None` when it
/// expired with neither direction active. `timer` is the direction's own.
async fn wait_idle<T>(
    activity: &Activity,
    timer: &mut LazyTimer,
    io: impl Future<Output = T>,
) -> Option<T> {
    let Some(idle) = activity.idle_ms else {
        return Some(io.await);
    };
    let mut io = std::pin::pin!(io);
    loop {
        match timer.until(activity.deadline(idle), io.as_mut()).await {
            Some(res) => return Some(res),
            // The other direction may have been active meanwhile.
            None if activity.deadline(idle) > Instant::now() => continue,
            None => return None,
        }
    }
}

/// One direction through a pipe: socket to pipe, pipe to socket.
async fn splice_half(
    from: &TcpStream,
    to: &TcpStream,
    mut lease: Lease<'_>,
    activity: &Activity,
    dir: Dir,
    meters: Meters<'_>,
) -> Result<(), ProxyError> {
    let (read_err, write_err, timeout) = dir.errors();
    let mut timer = LazyTimer::default();
    loop {
        let n = wait_idle(activity, &mut timer, lease.fill(from))
            .await
            .ok_or(timeout)?
            .map_err(|_| read_err)?;
        if n == 0 {
            if let Err(e) = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write) {
                tracing::debug!("shutdown after FIN: {e}");
            }
            return Ok(());
        }
        // Once per chunk (a clock read each): the bytes just read count as
        // activity for both directions' idle timeout.
        activity.touch();
        lease.drain(to).await.map_err(|_| write_err)?;
        match dir {
            Dir::Up => meters.add_in(n as u64),
            Dir::Down => meters.add_out(n as u64),
        }
    }
}

async fn copy_half<R, W>(
    r: &mut R,
    w: &mut W,
    activity: &Activity,
    bufsize: usize,
    dir: Dir,
    meters: Meters<'_>,
) -> Result<(), ProxyError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (read_err, write_err, timeout) = dir.errors();
    let mut recycled = Buf::new(bufsize.max(1024));
    let buf = recycled.storage();
    let mut timer = LazyTimer::default();
    loop {
        let n = wait_idle(activity, &mut timer, r.read(buf))
            .await
            .ok_or(timeout)?
            .map_err(|_| read_err)?;
        if n == 0 {
            // Half-close: the peer finished sending; tell the other side.
            if let Err(e) = w.shutdown().await {
                tracing::debug!("shutdown after FIN: {e}");
            }
            return Ok(());
        }
        activity.touch();
        w.write_all(&buf[..n]).await.map_err(|_| write_err)?;
        match dir {
            Dir::Up => meters.add_in(n as u64),
            Dir::Down => meters.add_out(n as u64),
        }
    }
}
