//! One accepted connection, from accept to close: the frontend's connection
//! rules, then `mode tcp` forwarding here or the HTTP session loop.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;

use super::balance::PickCtx;
use super::connect;
use super::error::ProxyError;
use super::hooks::{self, Verdict};
use super::http;
use super::shared::Shared;
use super::tcp::{self, Meters};
use crate::compile::program::{Mode, Proxy, ProxyId};
use crate::stats::Counters;

/// Serves one client connection of frontend `frontend` to its end.
pub async fn run(client: TcpStream, peer: SocketAddr, frontend: ProxyId, shared: Arc<Shared>) {
    crate::clock::refresh();
    let fe = shared.proxy(frontend);
    Counters::inc(&fe.frontend_counters.sessions_total);
    // Evaluation point: `tcp-request connection`.
    if hooks::tcp_request_connection(fe, peer) != Verdict::Continue {
        Counters::inc(&fe.frontend_counters.denied_conn);
        return;
    }
    if let Err(e) = client.set_nodelay(true) {
        tracing::debug!("set_nodelay: {e}");
    }
    let result = match fe.mode {
        Mode::Tcp => tcp_session(client, peer, fe, &shared).await,
        Mode::Http => http::session::run(client, peer, fe, &shared).await,
    };
    if let Err(e) = result {
        tracing::debug!(frontend = %fe.name, client = %peer, side = ?e.side(), "session ended: {e}");
    }
}

async fn tcp_session(
    mut client: TcpStream,
    peer: SocketAddr,
    fe: &Proxy,
    shared: &Shared,
) -> Result<(), ProxyError> {
    // Evaluation point: `tcp-request content` (no inspect-delay yet).
    if hooks::tcp_request_content(fe, peer, None) != Verdict::Continue {
        Counters::inc(&fe.frontend_counters.denied_sess);
        return Ok(());
    }
    // Evaluation point: `use_backend` / `default_backend`.
    let be = hooks::select_backend(fe, None)
        .map(|id| shared.proxy(id))
        .ok_or(ProxyError::NoBackend)?;
    Counters::inc(&be.backend_counters.sessions_total);
    let ctx = PickCtx {
        client: peer.ip(),
        request: None,
    };
    let mut conn = connect::connect(shared, be, &ctx, connect::Reuse::Never).await?;
    let server = &be.servers[conn.slot.server as usize];
    let meters = Meters {
        frontend: &fe.frontend_counters,
        backend: &be.backend_counters,
        server: &server.state.counters,
    };
    let idle = tunnel_idle_ms(fe, be);
    let bufsize = shared.program.global.tune_bufsize as usize;
    tcp::pipe(
        &mut client,
        &mut conn.stream,
        idle,
        bufsize,
        meters,
        &[],
        &[],
    )
    .await
}

/// The idle timeout of an established tunnel: `timeout tunnel`, else the
/// smaller of `timeout client` and `timeout server`.
pub fn tunnel_idle_ms(fe: &Proxy, be: &Proxy) -> Option<u64> {
    be.timeouts
        .tunnel_ms
        .or_else(|| min_opt(fe.timeouts.client_ms, be.timeouts.server_ms))
}

pub fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
