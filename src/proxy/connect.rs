//! Getting a server connection for a session or request: pick a server,
//! claim a slot (queueing if all are full), reuse an idle connection or
//! connect within `timeout connect`, and retry (`retries`), redispatching to
//! another server with `option redispatch`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::conn::Conn;

use super::balance::PickCtx;
use super::error::ProxyError;
use super::log::Trace;
use super::pool;
use super::queue::{self, ServerSlot};
use super::shared::Shared;
use crate::compile::program::{Balance, Proxy};
use crate::stats::Counters;

/// An established server connection and the slot it occupies.
#[derive(Debug)]
pub struct Connected {
    pub stream: Conn,
    pub slot: ServerSlot,
    /// Taken from the idle pool rather than freshly connected.
    pub reused: bool,
}

/// Whether an idle pooled connection may serve the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    Never,
    /// Reuse; the request can be replayed if the connection turns out dead.
    Replayable,
    /// Reuse only a connection checked alive just now (the request has a
    /// body that cannot be replayed).
    Probed,
}

/// HAProxy waits this long before retrying the same server after an
/// immediate failure (connection refused), bounded by `timeout connect`.
const TURN_AROUND_MS: u64 = 1_000;

/// Gets a server connection for `backend`, retrying and redispatching as
/// configured. `trace` learns, for the log line and the time statistics,
/// the server tried last, when it was assigned (HAProxy's `t_queue`), the
/// retries done and whether another server was tried.
pub async fn connect(
    shared: &Shared,
    backend: &Proxy,
    ctx: &PickCtx<'_>,
    reuse: Reuse,
    client: (SocketAddr, SocketAddr),
    trace: &mut Trace,
) -> Result<Connected, ProxyError> {
    let rt = shared.backend_rt(backend.id);
    let queue_ms = backend.timeouts.queue_ms.or(backend.timeouts.connect_ms);
    let mut position = 0;
    let acquired = queue::acquire(
        backend,
        &rt.balancer,
        &rt.queue,
        ctx,
        None,
        queue_ms,
        &mut position,
    )
    .await;
    trace.queue_position = position;
    let mut slot = assigned(backend, trace, acquired)?;
    let mut retries_left = backend.retries;
    loop {
        let server = &backend.servers[slot.server as usize];
        // A connection that carried a PROXY header belongs to its client.
        if reuse != Reuse::Never
            && !server.send_proxy
            && let Some(stream) = pool::take(
                backend.id.0,
                slot.server,
                crate::clock::now_ms(),
                reuse == Reuse::Probed,
            )
        {
            Counters::inc(&server.state.counters.sessions_total);
            return Ok(Connected {
                stream,
                slot,
                reused: true,
            });
        }
        let started = tokio::time::Instant::now();
        // HAProxy counts a server session per connection attempt.
        Counters::inc(&server.state.counters.sessions_total);
        let attempt = open(shared, backend, slot.server, client);
        let result = match backend.timeouts.connect_ms {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), attempt)
                .await
                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
            None => attempt.await,
        };
        match result {
            Ok(stream) => {
                return Ok(Connected {
                    stream,
                    slot,
                    reused: false,
                });
            }
            Err(e) => {
                tracing::debug!(server = %server.name, "connect failed: {e}");
            }
        }
        if retries_left == 0 {
            // Only the attempt that ends the request counts as an error.
            Counters::inc(&server.state.counters.errors_conn);
            Counters::inc(&backend.backend_counters.errors_conn);
            return Err(ProxyError::ConnectFailed);
        }
        retries_left -= 1;
        trace.retries += 1;
        let failed = slot.server;
        let plan = retry_plan(backend, failed, trace.retries);
        if plan.turn_around {
            let wait = TURN_AROUND_MS.min(backend.timeouts.connect_ms.unwrap_or(TURN_AROUND_MS));
            tokio::time::sleep_until(started + Duration::from_millis(wait)).await;
        }
        if plan.redispatch {
            drop(slot);
            let acquired = queue::acquire(
                backend,
                &rt.balancer,
                &rt.queue,
                ctx,
                plan.avoid,
                queue_ms,
                &mut position,
            )
            .await;
            trace.queue_position = position;
            slot = assigned(backend, trace, acquired)?;
        }
        count_retry(backend, failed, slot.server, trace);
    }
}

/// How retry number `retry` (1 = the first) after a failed connect to
/// server `failed` goes, as HAProxy 2.6 decides it with `option redispatch`
/// at its default interval.
///
/// Only under `option redispatch` does a retry change server: the last
/// retry always does, and so does every retry after the server went down,
/// or of a balancer that does not hash (anything but `source`, `uri`,
/// `url_param`, `hdr`) with more than one usable active server.
pub fn retry_plan(backend: &Proxy, failed: u32, retry: u32) -> RetryPlan {
    let hashed = matches!(
        backend.balance,
        Balance::Source | Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
    );
    let active = backend
        .servers
        .iter()
        .filter(|s| !s.backup && s.state.is_usable())
        .count();
    let spread = !hashed && active > 1;
    let down = backend
        .servers
        .get(failed as usize)
        .is_some_and(|s| !s.state.is_usable());
    let redispatch = backend.options.redispatch
        && backend.servers.len() > 1
        && (down || retry >= backend.retries || spread);
    // A hash sends the request where it sent it before, unless the server
    // left the farm.
    let avoid = (redispatch && !hashed).then_some(failed);
    RetryPlan {
        redispatch,
        avoid,
        turn_around: !redispatch,
    }
}

/// How a connection retry goes ([`retry_plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    /// Back to the balancer (else the same server again).
    pub redispatch: bool,
    /// The server the balancer should not pick again.
    pub avoid: Option<u32>,
    /// Wait min(`timeout connect`, 1 s) first: only before retrying the
    /// same server.
    pub turn_around: bool,
}

/// Notes a server assignment (or the queue timeout that ended the wait) in
/// `trace`, as HAProxy sets `t_queue` at each. Finding no usable server or
/// no slot in time counts as a connection error of the backend (`econ`),
/// as in HAProxy.
fn assigned(
    backend: &Proxy,
    trace: &mut Trace,
    acquired: Result<ServerSlot, ProxyError>,
) -> Result<ServerSlot, ProxyError> {
    match acquired {
        Ok(slot) => {
            trace.server = Some(slot.server);
            trace.queued_ms = Some(crate::clock::refresh());
            Ok(slot)
        }
        Err(e) => {
            if e == ProxyError::QueueTimeout {
                trace.queued_ms = Some(crate::clock::refresh());
            }
            if matches!(e, ProxyError::QueueTimeout | ProxyError::NoServer) {
                Counters::inc(&backend.backend_counters.errors_conn);
            }
            Err(e)
        }
    }
}

/// Counts a retry as HAProxy does: on the same server it is a retry of that
/// server (`wretr`); on another one a redispatch (`wredis`) of the server
/// left, and the log's retry count gets its `+`.
fn count_retry(backend: &Proxy, failed: u32, next: u32, trace: &mut Trace) {
    let left = &backend.servers[failed as usize].state.counters;
    if next == failed {
        Counters::inc(&left.retries);
        Counters::inc(&backend.backend_counters.retries);
    } else {
        trace.redispatched = true;
        Counters::inc(&left.redispatches);
        Counters::inc(&backend.backend_counters.redispatches);
    }
}

/// Connects to server `index` of `backend`, and opens TLS on it when the
/// server has `ssl` (the handshake counts in `timeout connect`).
async fn open(
    shared: &Shared,
    backend: &Proxy,
    index: u32,
    client: (SocketAddr, SocketAddr),
) -> std::io::Result<Conn> {
    let server = &backend.servers[index as usize];
    let addr = server.state.addr(server.addr);
    let mut stream = TcpStream::connect(addr).await?;
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("set_nodelay: {e}");
    }
    if server.send_proxy {
        use tokio::io::AsyncWriteExt;
        let line = proxy_v1_line(client.0, client.1);
        stream.write_all(line.as_bytes()).await?;
    }
    let Some(tls) = &server.tls else {
        return Ok(Conn::Plain(stream));
    };
    let Some(config) = shared.tls.server(backend.id, index) else {
        // `serve` refuses to start without the configuration of every TLS
        // server, so this is never reached; refuse rather than send clear text.
        return Err(std::io::Error::other(
            "no TLS configuration for this server",
        ));
    };
    let name = crate::tls::server_name(tls, addr);
    match crate::tls::connect(std::sync::Arc::clone(config), name, stream).await {
        Ok(conn) => Ok(conn),
        Err(e) => {
            tracing::info!(server = %server.name, "{e}");
            Err(e.error)
        }
    }
}

/// `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (TCP6 for IPv6; an IPv4
/// client of an IPv6 socket is written as IPv4).
pub fn proxy_v1_line(src: std::net::SocketAddr, dst: std::net::SocketAddr) -> String {
    use std::net::{IpAddr, SocketAddr};
    let unmap = |a: SocketAddr| match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
            None => a,
        },
        IpAddr::V4(_) => a,
    };
    let (src, dst) = (unmap(src), unmap(dst));
    let family = if src.is_ipv4() && dst.is_ipv4() {
        "TCP4"
    } else {
        "TCP6"
    };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::Mode;
    use crate::proxy::testutil;

    fn backend(balance: Balance, redispatch: bool) -> Proxy {
        let a = testutil::free_addr();
        let mut be = testutil::listen(0, Mode::Http, None, testutil::servers(&[(a, 1), (a, 1)]));
        be.balance = balance;
        be.options.redispatch = redispatch;
        be.retries = 3;
        be
    }

    #[test]
    fn retries_change_server_as_haproxy_decides() {
        let plan = |be: &Proxy, retry| {
            let p = retry_plan(be, 0, retry);
            (p.redispatch, p.avoid, p.turn_around)
        };
        // Round robin or leastconn over two servers: every retry
        // elsewhere, at once.
        let rr = backend(Balance::RoundRobin, true);
        assert_eq!(plan(&rr, 1), (true, Some(0), false));
        let lc = backend(Balance::LeastConn, true);
        assert_eq!(plan(&lc, 1), (true, Some(0), false));
        // A hash: the same server after the turn-around; the last retry
        // asks the hash again (which picks the same server) at once.
        let src = backend(Balance::Source, true);
        assert_eq!(plan(&src, 1), (false, None, true));
        assert_eq!(plan(&src, 3), (true, None, false));
        // Round robin with one usable server left: like a hash.
        rr.servers[1]
            .state
            .set_admin(crate::stats::AdminState::Maint, 0);
        assert_eq!(plan(&rr, 1), (false, None, true));
        // A server gone down: elsewhere at once.
        rr.servers[0]
            .state
            .set_admin(crate::stats::AdminState::Maint, 0);
        assert_eq!(plan(&rr, 1), (true, Some(0), false));
        // Without `option redispatch`, never.
        let stay = backend(Balance::RoundRobin, false);
        assert_eq!(plan(&stay, 3), (false, None, true));
    }

    #[test]
    fn proxy_v1_lines() {
        let src = "192.0.2.1:5000".parse().unwrap_or_else(|e| panic!("{e}"));
        let dst = "198.51.100.2:80".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            proxy_v1_line(src, dst),
            "PROXY TCP4 192.0.2.1 198.51.100.2 5000 80\r\n"
        );
        let src6 = "[2001:db8::1]:5000"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let dst6 = "[2001:db8::2]:443"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            proxy_v1_line(src6, dst6),
            "PROXY TCP6 2001:db8::1 2001:db8::2 5000 443\r\n"
        );
    }
}
