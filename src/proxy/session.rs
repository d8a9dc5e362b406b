//! One accepted connection, from accept to close: the frontend's connection
//! rules, then `mode tcp` forwarding here or the HTTP session loop.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::balance::PickCtx;
use super::conn::Conn;
use super::connect;
use super::error::ProxyError;
use super::hooks::{self, RuleEnv, Verdict};
use super::http;
use super::log::{self, Outcome, Pending};
use super::proxy_protocol;
use super::shared::Shared;
use super::tcp::{self, Meters, Transferred};
use crate::compile::program::{Mode, Proxy, ProxyId};
use crate::rules::ctx::{RuleState, TlsFacts};
use crate::stats::Counters;
use crate::stats::streams::{KillSwitch, Live, Origin};
use crate::tls::{self, Peek, TlsInfo};

/// Where a connection is listed for `show sess`: its worker's registry, and
/// the switch that ends its task.
pub struct Listing {
    pub worker: usize,
    pub kill: KillSwitch,
}

/// Serves one client connection of frontend `frontend` to its end; `tls`
/// is the bind's configuration when it terminates TLS; `listing` lists the
/// session's streams in its worker's registry.
pub async fn run(
    mut client: TcpStream,
    mut peer: SocketAddr,
    frontend: ProxyId,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<Shared>,
    accept_proxy: bool,
    listing: Listing,
) {
    let accepted_ms = crate::clock::refresh();
    let fe = shared.proxy(frontend);
    // `accept-proxy`: the header comes first and names the real client.
    let mut early = Vec::new();
    if accept_proxy {
        let limit = fe.timeouts.client_ms;
        let header = crate::proxy::http::within(limit, ProxyError::ClientTimeout, async {
            proxy_protocol::read(&mut client).await
        })
        .await;
        match header {
            Ok((source, rest)) => {
                peer = source.unwrap_or(peer);
                early = rest;
            }
            Err(e) => {
                Counters::inc(&fe.frontend_counters.errors_req);
                tracing::debug!(frontend = %fe.name, "PROXY header: {e}");
                return;
            }
        }
    }
    // `disable frontend`: new connections are closed at once.
    if fe.frontend_counters.is_paused() {
        return;
    }
    let _session = OpenSession::new(&fe.frontend_counters);
    let streams = shared.streams.worker(listing.worker);
    let origin = Origin {
        src: peer,
        frontend: frontend.0,
        client_fd: client.as_raw_fd(),
        kill: listing.kill,
    };
    let local = client.local_addr().unwrap_or(peer);
    let state = parking_lot::Mutex::new(RuleState::new());
    let env = RuleEnv {
        state: &state,
        tables: &shared.tables,
        client: peer,
        local,
    };
    // Evaluation point: `tcp-request connection`.
    if hooks::tcp_request_connection(fe, env) != Verdict::Continue {
        Counters::inc(&fe.frontend_counters.denied_conn);
        return;
    }
    hooks::session_accepted(env);
    log::log_accept(&shared, fe, peer, local);
    if let Err(e) = client.set_nodelay(true) {
        tracing::debug!("set_nodelay: {e}");
    }
    let client = match tls {
        None => Conn::Plain(client),
        Some(config) => match handshake(config, client, peer, fe).await {
            Some((conn, info)) => {
                state.lock().tls = Some(tls_facts(info));
                conn
            }
            None => return,
        },
    };
    let served = async {
        match fe.mode {
            Mode::Tcp => {
                let log = Pending::session(&shared, fe, accepted_ms);
                let mut outcome = Outcome::default();
                let expires = deadline(fe.timeouts.client_ms);
                let live = streams.open(&origin, accepted_ms, expires);
                let sess = (env, &live);
                let result = tcp_session(client, sess, fe, &shared, &early, &mut outcome).await;
                crate::clock::refresh();
                outcome.error = result.err();
                log.finish(&shared, fe, peer, &outcome);
                result
            }
            Mode::Http => {
                let listing = (streams, &origin);
                http::session::run(client, env, fe, &shared, &early, listing).await
            }
        }
    };
    if let Err(e) = served.await {
        tracing::debug!(frontend = %fe.name, client = %peer, side = ?e.side(), "session ended: {e}");
    }
}

/// Terminates TLS within `timeout client` (else `timeout http-request`), so
/// a client that opens a connection and stalls is cut. A failure is logged
/// and counted as a connection error of the frontend; the worker goes on.
async fn handshake(
    config: Arc<rustls::ServerConfig>,
    client: TcpStream,
    peer: SocketAddr,
    fe: &Proxy,
) -> Option<(Conn, TlsInfo)> {
    let limit_ms = fe.timeouts.client_ms.or(fe.timeouts.http_request_ms);
    let accept = crate::tls::accept(config, client);
    let result = match limit_ms {
        Some(ms) => {
            match tokio::time::timeout(std::time::Duration::from_millis(ms), accept).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::info!(frontend = %fe.name, client = %peer, "SSL handshake timeout");
                    Counters::inc(&fe.frontend_counters.errors_req);
                    return None;
                }
            }
        }
        None => accept.await,
    };
    match result {
        Ok(done) => Some(done),
        Err(e) => {
            tracing::info!(frontend = %fe.name, client = %peer, "{e}");
            Counters::inc(&fe.frontend_counters.errors_req);
            None
        }
    }
}

/// The rules' copy of what the handshake said (`ssl_fc*`, `ssl_c_*`).
pub fn tls_facts(info: TlsInfo) -> TlsFacts {
    TlsFacts {
        sni: info.sni.map(String::into_boxed_str),
        protocol: info.protocol,
        alpn: info.alpn.map(Vec::into_boxed_slice),
        cipher: info.cipher,
        client_cert_used: info.client_cert_used,
        client_verify: i64::from(info.client_verify),
        client_subject: info
            .client_subject
            .iter()
            .map(|e| (e.short_name().into_boxed_str(), e.value.as_str().into()))
            .collect(),
    }
}

/// How long to wait between two looks at a client's first bytes while
/// they do not yet make a whole ClientHello.
const PEEK_INTERVAL: Duration = Duration::from_millis(5);

/// `tcp-request inspect-delay` before the content rules of a tcp session:
/// looks at the client's first bytes without consuming them until they make
/// a whole TLS ClientHello, show they are not one, the buffer is full, the
/// client closes or `delay_ms` passes. Returns the hello's server name
/// (`req.ssl_sni`). `early` holds bytes already read after a PROXY header.
async fn peek_client_sni(
    client: &TcpStream,
    early: &[u8],
    delay_ms: u64,
    bufsize: usize,
) -> Option<Box<str>> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(delay_ms);
    let mut buf = vec![0u8; bufsize.max(early.len() + 1)];
    buf[..early.len()].copy_from_slice(early);
    loop {
        let peeked = tokio::time::timeout_at(deadline, client.peek(&mut buf[early.len()..]));
        let n = match peeked.await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) | Err(_) => return None,
        };
        let seen = &buf[..early.len() + n];
        match tls::peek_client_hello(seen) {
            Peek::ClientHello { sni } => return sni.map(Into::into),
            Peek::NotClientHello => return None,
            Peek::Incomplete if n == 0 || seen.len() == buf.len() => return None,
            Peek::Incomplete => {
                if tokio::time::Instant::now() + PEEK_INTERVAL >= deadline {
                    return None;
                }
                tokio::time::sleep(PEEK_INTERVAL).await;
            }
        }
    }
}

async fn tcp_session(
    mut client: Conn,
    (env, live): (RuleEnv<'_>, &Live<'_>),
    fe: &Proxy,
    shared: &Shared,
    early: &[u8],
    out: &mut Outcome,
) -> Result<(), ProxyError> {
    // `tcp-request inspect-delay`: wait for the first bytes (a ClientHello
    // for `req.ssl_sni`) before the content rules decide.
    if let (Some(delay_ms), Conn::Plain(tcp)) = (fe.rules.inspect_delay_ms, &client)
        && !fe.rules.tcp_content.is_empty()
    {
        let bufsize = shared.program.global.tune_bufsize as usize;
        let sni = peek_client_sni(tcp, early, delay_ms, bufsize).await;
        env.state.lock().req_ssl_sni = sni;
    }
    // Evaluation point: `tcp-request content`.
    if hooks::tcp_request_content(fe, env, None) != Verdict::Continue {
        Counters::inc(&fe.frontend_counters.denied_sess);
        out.trace.term = Some(*b"PR");
        return Ok(());
    }
    // Evaluation point: `use_backend` / `default_backend`.
    let be = hooks::select_backend(fe, env, None)
        .map(|id| shared.proxy(id))
        .ok_or(ProxyError::NoBackend)?;
    out.trace.backend = Some(be.id);
    // Evaluation point: the backend's `tcp-request content` rules.
    if be.id != fe.id && hooks::tcp_request_content(be, env, None) != Verdict::Continue {
        Counters::inc(&be.backend_counters.denied_sess);
        out.trace.term = Some(*b"PR");
        return Ok(());
    }
    let _backend_session = OpenSession::new(&be.backend_counters);
    live.backend_chosen(be.id.0, queue_deadline(be));
    let ctx = PickCtx {
        client: env.client.ip(),
        request: None,
    };
    out.trace.connect_start_ms = Some(crate::clock::now_ms());
    let connected = connect::connect(
        shared,
        be,
        &ctx,
        connect::Reuse::Never,
        (env.client, env.local),
        &mut out.trace,
    )
    .await;
    let mut conn = match connected {
        Ok(conn) => conn,
        Err(e) => {
            out.bytes_in = early.len() as u64 + unread_client_bytes(&client);
            return Err(e);
        }
    };
    out.trace.connected_ms = Some(crate::clock::refresh());
    out.trace.server = Some(conn.slot.server);
    let server = &be.servers[conn.slot.server as usize];
    let idle = tunnel_idle_ms(fe, be);
    live.server_connected(conn.slot.server, conn_fd(&conn.stream), deadline(idle));
    let moved = Transferred::default();
    let meters = Meters {
        frontend: &fe.frontend_counters,
        backend: &be.backend_counters,
        server: &server.state.counters,
        session: Some(&moved),
        shutdown: Some(&server.state.shutdown_gen),
    };
    let bufsize = shared.program.global.tune_bufsize as usize;
    let transport = tcp::Transport {
        idle_ms: idle,
        bufsize,
        pipes: shared.pipes.as_deref(),
    };
    let result = tcp::pipe(&mut client, &mut conn.stream, transport, meters, early, &[]).await;
    out.bytes_in = Counters::read(&moved.bytes_in) + early.len() as u64;
    out.bytes_out = Counters::read(&moved.bytes_out);
    hooks::stream_end(
        env,
        Counters::read(&moved.bytes_in),
        Counters::read(&moved.bytes_out),
        None,
    );
    result
}

/// Whether the client has sent bytes lbd has not read yet (0 or 1), without
/// waiting. HAProxy reads them while it connects, so a session whose
/// connect failed after the client spoke is logged even under `option
/// dontlognull`.
fn unread_client_bytes(client: &Conn) -> u64 {
    let Conn::Plain(tcp) = client else { return 0 };
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    // The socket is non-blocking: no data is `WouldBlock`, not a wait.
    match socket2::SockRef::from(tcp).peek(&mut buf) {
        Ok(n) => n as u64,
        Err(_) => 0,
    }
}

/// A session counted in `scur` (and the session rate) of a frontend or a
/// backend for as long as it lives.
pub struct OpenSession<'a>(&'a Counters);

impl<'a> OpenSession<'a> {
    pub fn new(counters: &'a Counters) -> OpenSession<'a> {
        counters.session_opened(crate::clock::now_ms());
        OpenSession(counters)
    }
}

impl Drop for OpenSession<'_> {
    fn drop(&mut self) {
        self.0.session_closed();
    }
}

/// The clock when a timeout of `ms` started now fires (`show sess`).
pub fn deadline(ms: Option<u64>) -> Option<u64> {
    ms.map(|ms| crate::clock::now_ms().saturating_add(ms))
}

/// When a stream waiting for a server of `be` gives up: `timeout queue`,
/// else `timeout connect`, as HAProxy does.
pub fn queue_deadline(be: &Proxy) -> Option<u64> {
    deadline(be.timeouts.queue_ms.or(be.timeouts.connect_ms))
}

/// The file descriptor of a client or server connection (`show sess`).
pub fn conn_fd(conn: &Conn) -> i32 {
    match conn {
        Conn::Plain(tcp) => tcp.as_raw_fd(),
        Conn::Tls(tls) => tls.get_ref().0.as_raw_fd(),
    }
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
