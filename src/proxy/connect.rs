//! Getting a server connection for a session or request: pick a server,
//! claim a slot (queueing if all are full), reuse an idle connection or
//! connect within `timeout connect`, and retry (`retries`), redispatching to
//! another server with `option redispatch`.

use std::time::Duration;

use tokio::net::TcpStream;

use super::balance::PickCtx;
use super::error::ProxyError;
use super::pool;
use super::queue::{self, ServerSlot};
use super::shared::Shared;
use crate::compile::program::Proxy;
use crate::stats::Counters;

/// An established server connection and the slot it occupies.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
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

pub async fn connect(
    shared: &Shared,
    backend: &Proxy,
    ctx: &PickCtx<'_>,
    reuse: Reuse,
) -> Result<Connected, ProxyError> {
    let rt = shared.backend_rt(backend.id);
    let queue_ms = backend.timeouts.queue_ms.or(backend.timeouts.connect_ms);
    let mut slot = queue::acquire(backend, &rt.balancer, &rt.queue, ctx, None, queue_ms).await?;
    let mut retries_left = backend.retries;
    loop {
        let server = &backend.servers[slot.server as usize];
        if reuse != Reuse::Never
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
        let attempt = TcpStream::connect(server.addr);
        let result = match backend.timeouts.connect_ms {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), attempt)
                .await
                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
            None => attempt.await,
        };
        match result {
            Ok(stream) => {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!("set_nodelay: {e}");
                }
                Counters::inc(&server.state.counters.sessions_total);
                return Ok(Connected {
                    stream,
                    slot,
                    reused: false,
                });
            }
            Err(e) => {
                tracing::debug!(server = %server.name, "connect failed: {e}");
                Counters::inc(&server.state.counters.errors_conn);
                Counters::inc(&backend.backend_counters.errors_conn);
            }
        }
        if retries_left == 0 {
            return Err(ProxyError::ConnectFailed);
        }
        retries_left -= 1;
        Counters::inc(&server.state.counters.retries);
        Counters::inc(&backend.backend_counters.retries);
        if backend.options.redispatch && backend.servers.len() > 1 {
            let failed = slot.server;
            drop(slot);
            Counters::inc(&backend.backend_counters.redispatches);
            slot = queue::acquire(
                backend,
                &rt.balancer,
                &rt.queue,
                ctx,
                Some(failed),
                queue_ms,
            )
            .await?;
        } else {
            let wait = TURN_AROUND_MS.min(backend.timeouts.connect_ms.unwrap_or(TURN_AROUND_MS));
            tokio::time::sleep_until(started + Duration::from_millis(wait)).await;
        }
    }
}
