//! The HTTP/1.1 request loop of one client connection.
//!
//! For each request: read and validate the head (`timeout http-request`,
//! `timeout http-keep-alive` between requests), run the rule evaluation
//! points, choose the backend and a server, take an idle server connection
//! or connect, send the head, then stream the request body and relay the
//! response at the same time (so `Expect: 100-continue` and early responses
//! work), and finally keep, pool or close each side. Requests of a
//! connection are served one at a time, so pipelined requests are answered
//! in order. After a `101 Switching Protocols` the connection becomes a
//! tunnel.

use std::net::SocketAddr;

use crate::proxy::conn::Conn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::answer;
use super::buffer::Buf;
use super::codec::{self, Body, RequestInfo};
use super::exchange::{Done, Exchange};
use super::framing::Errs;
use super::headers;
use super::timer::LazyTimer;
use super::within;
use crate::compile::program::{HttpConnMode, Proxy};
use crate::proxy::ProxyError;
use crate::proxy::balance::PickCtx;
use crate::proxy::connect;
use crate::proxy::hooks::{self, RuleEnv, Verdict};
use crate::proxy::log::{self, Outcome, Pending, Trace};
use crate::proxy::session::{conn_fd, deadline, queue_deadline};
use crate::proxy::shared::{Shared, Stop};
use crate::rules::action::HttpVerdict;
use crate::rules::message::{RequestHead, ResponseHead, Version};
use crate::stats::Counters;
use crate::stats::streams::{Live, Origin, Registry};
use tokio::sync::watch;

/// Buffers of one client connection, reused by every request on it.
/// The smallest server-side buffer (bytes).
const SERVER_BUF_MIN: usize = 65_536;

pub(super) struct Bufs {
    pub(super) client: Buf,
    pub(super) server: Buf,
    pub(super) req: RequestHead,
    pub(super) resp: ResponseHead,
    /// Serialized heads.
    pub(super) out: Vec<u8>,
    /// Chunk re-framing and header scratch, one per direction.
    pub(super) up: Vec<u8>,
    pub(super) down: Vec<u8>,
    /// What the current request moved, for its tracked stick table entries.
    pub(super) meter: StreamMeter,
    /// The waits for the next request and for the server's answer.
    pub(super) timer: LazyTimer,
    /// Stop requests, seen while waiting for the next request.
    pub(super) stop: watch::Receiver<Stop>,
}

/// Bytes and status of one request and its answer, counted the way HAProxy
/// counts them for `bytes_in_*`, `bytes_out_*` and `http_err_*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamMeter {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub status: Option<u16>,
    /// The path of the request, for its log line.
    pub trace: Trace,
}

impl StreamMeter {
    /// lbd answered the request itself with `page` (the whole response) of
    /// status `status`; it counts as HAProxy counts it.
    pub fn answered(&mut self, status: u16, page: &[u8]) {
        self.status = Some(status);
        self.bytes_out += log::size::page(page);
    }
}

/// What happens to the client connection after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    KeepAlive,
    Close,
}

pub(super) const UP_ERRS: Errs = Errs {
    closed: ProxyError::ClientClosed,
    read: ProxyError::ClientIo,
    write: ProxyError::ServerIo,
    timeout: ProxyError::ClientTimeout,
    malformed: ProxyError::BadRequest("invalid chunked body"),
};

pub(super) const DOWN_ERRS: Errs = Errs {
    closed: ProxyError::BadResponse("server closed mid-body"),
    read: ProxyError::ServerIo,
    write: ProxyError::ClientIo,
    timeout: ProxyError::ServerTimeout,
    malformed: ProxyError::BadResponse("invalid chunked body"),
};

pub async fn run(
    mut client: Conn,
    env: RuleEnv<'_>,
    fe: &Proxy,
    shared: &Shared,
    early: &[u8],
    (streams, origin): (&Registry, &Origin),
) -> Result<(), ProxyError> {
    let bufsize = shared.program.global.tune_bufsize as usize;
    let mut b = Bufs {
        client: Buf::new(bufsize),
        // Response bodies stream through this buffer: a larger one saves
        // system calls on big responses; heads stay limited to bufsize.
        server: Buf::new(bufsize.max(SERVER_BUF_MIN)),
        req: RequestHead::new(),
        resp: ResponseHead::new(),
        out: Vec::with_capacity(1024),
        up: Vec::new(),
        down: Vec::new(),
        meter: StreamMeter::default(),
        timer: LazyTimer::default(),
        stop: shared.stop.subscribe(),
    };
    // Listed for `show sess` while a request is in flight.
    let live = streams.open_idle(origin);
    // Bytes that came with a PROXY header start the first request.
    b.client.extend(early);
    let mut first = true;
    let accepted_ms = crate::clock::now_ms();
    // Where HAProxy starts each request's stream: the accept, then the end
    // of the previous request (so the keep-alive wait counts in `ttime`).
    let mut stream_start_ms = accepted_ms;
    loop {
        let mut first_byte_ms = None;
        let info = match read_head(&mut client, &mut b, fe, shared, first, &mut first_byte_ms).await
        {
            Ok(Some(info)) => info,
            Ok(None) => {
                if first {
                    log_bad_request(shared, fe, env, accepted_ms, None);
                }
                return Ok(());
            }
            Err(e) => {
                log_bad_request(shared, fe, env, accepted_ms, Some(e));
                if matches!(e.status(), Some(400 | 408 | 414 | 431 | 501)) {
                    Counters::inc(&fe.frontend_counters.errors_req);
                    if e.status() != Some(408) {
                        capture_bad_request(fe, env, b.client.filled());
                    }
                    send_page(
                        &mut client,
                        shared,
                        fe,
                        None,
                        e.status().unwrap_or(400),
                        true,
                        &mut StreamMeter::default(),
                    )
                    .await;
                }
                return Err(e);
            }
        };
        // `TR`: from the request's first byte to its whole head; the wait
        // before the first byte counts in the stream's total only.
        let head_ms = crate::clock::refresh();
        let first_byte_ms = first_byte_ms.unwrap_or(head_ms).min(head_ms);
        let t_request = i64::try_from(head_ms - first_byte_ms).unwrap_or(i64::MAX);
        let idle_ms = first_byte_ms.saturating_sub(stream_start_ms);
        first = false;
        Counters::add(&fe.frontend_counters.bytes_in, info.head_len as u64);
        let log = Pending::http(shared, fe, &b.req, t_request, idle_ms);
        // A stream is listed from its head to its end, as HAProxy lists
        // none for a connection waiting for its next request.
        live.start(stream_start_ms, deadline(fe.timeouts.client_ms));
        let next = serve_request(&mut client, env, fe, shared, &mut b, info, log, &live).await;
        live.finish();
        let next = next?;
        stream_start_ms = crate::clock::now_ms();
        match next {
            Next::KeepAlive => {}
            Next::Close => {
                linger_close(&mut client).await;
                return Ok(());
            }
        }
    }
}

/// Logs a connection that sent no valid request (`<BADREQ>`), as HAProxy
/// does: 400 when the client left, else the error's status.
fn log_bad_request(
    shared: &Shared,
    fe: &Proxy,
    env: RuleEnv<'_>,
    accepted_ms: u64,
    error: Option<ProxyError>,
) {
    let log = Pending::session(shared, fe, accepted_ms);
    let error = error.unwrap_or(ProxyError::ClientClosed);
    let outcome = Outcome {
        status: Some(error.status().unwrap_or(400)),
        // An empty connection is what `option dontlognull` leaves out.
        bytes_in: u64::from(error != ProxyError::ClientClosed),
        error: Some(error),
        ..Outcome::default()
    };
    log.finish(shared, fe, env.client, &outcome);
}

/// Keeps a malformed request for `show errors`.
fn capture_bad_request(fe: &Proxy, env: RuleEnv<'_>, bytes: &[u8]) {
    let when_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    fe.frontend_counters
        .capture(crate::stats::capture::ErrorCapture {
            when_unix_ms,
            kind: crate::stats::capture::CaptureKind::Request,
            src: Some(env.client),
            peer_proxy: None,
            server: None,
            error_pos: first_bad_byte(bytes),
            bytes: bytes.into(),
        });
}

/// Where a request head stops being plain HTTP/1 text: the first control
/// byte other than CR, LF and TAB, else the end.
fn first_bad_byte(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&c| (c < 0x20 && c != b'\r' && c != b'\n' && c != b'\t') || c == 0x7f)
        .unwrap_or(bytes.len())
}

/// Reads the next request head. `Ok(None)`: the client left (or the
/// keep-alive wait ended) between requests: close without a word.
/// `first_byte_ms` gets the clock when the request's first byte was there.
async fn read_head(
    client: &mut Conn,
    b: &mut Bufs,
    fe: &Proxy,
    shared: &Shared,
    first: bool,
    first_byte_ms: &mut Option<u64>,
) -> Result<Option<RequestInfo>, ProxyError> {
    if !b.client.is_empty() {
        // Pipelined, or sent with a PROXY header.
        *first_byte_ms = Some(crate::clock::now_ms());
    }
    let bufsize = b.client.capacity();
    let request_ms = fe.timeouts.http_request_ms.or(fe.timeouts.client_ms);
    if !first && b.client.is_empty() {
        if shared.is_stopping() {
            return Ok(None);
        }
        let keep_alive_ms = fe.timeouts.http_keep_alive_ms.or(request_ms);
        let Bufs {
            client: cbuf,
            timer,
            stop,
            ..
        } = b;
        let idle = timer.within(keep_alive_ms, ProxyError::ClientTimeout, async {
            cbuf.fill(client).await.map_err(|_| ProxyError::ClientIo)
        });
        tokio::select! {
            r = idle => match r {
                Ok(0) | Err(ProxyError::ClientTimeout) => return Ok(None),
                Ok(_) => *first_byte_ms = Some(crate::clock::refresh()),
                Err(e) => return Err(e),
            },
            _ = stop.changed() => return Ok(None),
        }
    }
    let deadline = request_ms.map(|ms| Instant::now() + std::time::Duration::from_millis(ms));
    loop {
        if !b.client.is_empty()
            && let Some(info) = codec::parse_request(b.client.filled(), bufsize, &mut b.req)?
        {
            b.client.consume(info.head_len);
            return Ok(Some(info));
        }
        let fill = b.client.fill(client);
        let n = match deadline {
            Some(d) => match tokio::time::timeout_at(d, fill).await {
                Ok(r) => r,
                Err(_) => return Err(ProxyError::RequestTimeout),
            },
            None => fill.await,
        }
        .map_err(|_| ProxyError::ClientIo)?;
        if n == 0 {
            return if b.client.is_empty() {
                Ok(None)
            } else {
                Err(ProxyError::ClientClosed)
            };
        }
        if first_byte_ms.is_none() {
            *first_byte_ms = Some(crate::clock::refresh());
        }
    }
}

/// Serves one parsed request to its end, then gives what it moved to the
/// session's tracked stick table entries.
#[allow(clippy::too_many_arguments)]
async fn serve_request(
    client: &mut Conn,
    env: RuleEnv<'_>,
    fe: &Proxy,
    shared: &Shared,
    b: &mut Bufs,
    info: RequestInfo,
    log: Pending,
    live: &Live<'_>,
) -> Result<Next, ProxyError> {
    crate::clock::refresh();
    hooks::request_started(env);
    b.meter = StreamMeter {
        bytes_in: hooks::request_size(&b.req),
        ..StreamMeter::default()
    };
    let result = route_request(client, env, fe, shared, b, info, live).await;
    crate::clock::refresh();
    hooks::stream_end(env, b.meter.bytes_in, b.meter.bytes_out, b.meter.status);
    let outcome = Outcome {
        status: b.meter.status,
        bytes_in: b.meter.bytes_in,
        bytes_out: b.meter.bytes_out,
        trace: b.meter.trace,
        error: result.as_ref().err().copied(),
    };
    log.finish(shared, fe, env.client, &outcome);
    result
}

/// Runs the rules, chooses the backend and a server, and relays the
/// exchange.
async fn route_request(
    client: &mut Conn,
    env: RuleEnv<'_>,
    fe: &Proxy,
    shared: &Shared,
    b: &mut Bufs,
    info: RequestInfo,
    live: &Live<'_>,
) -> Result<Next, ProxyError> {
    let peer = env.client;
    fe.frontend_counters
        .request_received(crate::clock::now_ms());
    // Pages answered before the body is read close the connection, and so
    // does a client that asked for it.
    let unread_body = info.body != Body::None
        || info.conn.close
        || (b.req.version == Version::Http10 && !info.conn.keep_alive);
    if let Some(next) = request_rules(client, env, shared, fe, fe, b, unread_body).await {
        return Ok(next);
    }
    // Evaluation point: `use_backend` / `default_backend`.
    let Some(be) = hooks::select_backend(fe, env, Some(&b.req)).map(|id| shared.proxy(id)) else {
        b.meter.trace.term = Some(log::term_state(
            Some(ProxyError::NoBackend),
            &b.meter.trace,
            None,
        ));
        return Ok(send_page(client, shared, fe, None, 503, unread_body, &mut b.meter).await);
    };
    let _backend_session = crate::proxy::session::OpenSession::new(&be.backend_counters);
    b.meter.trace.backend = Some(be.id);
    live.backend_chosen(be.id.0, queue_deadline(be));
    be.backend_counters.request_received(crate::clock::now_ms());
    if be.id != fe.id
        && let Some(next) = request_rules(client, env, shared, fe, be, b, unread_body).await
    {
        b.meter.trace.term = Some(*b"LR");
        return Ok(next);
    }
    let mode = conn_mode(fe, be);
    let client_close = info.conn.close
        || (b.req.version == Version::Http10 && !info.conn.keep_alive)
        || mode == HttpConnMode::Close
        || shared.is_stopping();
    let reuse =
        mode == HttpConnMode::KeepAlive && b.req.version == Version::Http11 && !info.upgrade;
    prepare_request(&mut b.req, &info, fe, be, peer, reuse, &mut b.up);
    b.out.clear();
    b.req.write_to(&mut b.out);

    let mut attempt = 0;
    loop {
        attempt += 1;
        let ctx = PickCtx {
            client: peer.ip(),
            request: Some(&b.req),
        };
        let pooled = match (reuse && attempt == 1, info.body) {
            (false, _) => connect::Reuse::Never,
            (true, Body::None) => connect::Reuse::Replayable,
            (true, _) => connect::Reuse::Probed,
        };
        let trace = &mut b.meter.trace;
        trace.connect_start_ms = trace.connect_start_ms.or(Some(crate::clock::now_ms()));
        let client_addrs = (env.client, env.local);
        let mut conn = match connect::connect(shared, be, &ctx, pooled, client_addrs, trace).await {
            Ok(c) => {
                let expires = deadline(be.timeouts.server_ms);
                live.server_connected(c.slot.server, conn_fd(&c.stream), expires);
                b.meter.trace.server = Some(c.slot.server);
                b.meter.trace.connected_ms = Some(crate::clock::refresh());
                c
            }
            Err(e) => {
                tracing::debug!(backend = %be.name, "no server connection: {e}");
                b.meter.trace.term = Some(log::term_state(Some(e), &b.meter.trace, None));
                let status = e.status().unwrap_or(503);
                return Ok(send_page(
                    client,
                    shared,
                    fe,
                    Some(be),
                    status,
                    unread_body,
                    &mut b.meter,
                )
                .await);
            }
        };
        let ex = Exchange {
            fe,
            be,
            shared,
            info,
            client_close,
            env,
        };
        match ex.run(client, &mut conn, b).await {
            Ok(done) => {
                if let Done::Response {
                    body_in,
                    body_out,
                    head_out,
                    ..
                } = done
                {
                    b.meter.bytes_in += body_in;
                    b.meter.bytes_out += head_out + body_out;
                    b.meter.status = Some(b.resp.status);
                }
                return Ok(ex.finish(client, conn, b, done, reuse).await);
            }
            // A pooled connection the server had closed: try a fresh one
            // when nothing was sent and the request can be replayed.
            Err(f) if f.retryable && conn.reused && info.body == Body::None && attempt == 1 => {
                continue;
            }
            Err(f) => {
                let server = &be.servers[conn.slot.server as usize];
                if matches!(
                    f.error,
                    ProxyError::BadResponse(_) | ProxyError::ServerTimeout | ProxyError::ServerIo
                ) {
                    Counters::inc(&be.backend_counters.errors_resp);
                    Counters::inc(&server.state.counters.errors_resp);
                }
                if f.head_sent {
                    return Err(f.error);
                }
                b.meter.trace.term = Some(log::term_state(Some(f.error), &b.meter.trace, None));
                match f.error.status() {
                    Some(status) if f.error.side() != crate::proxy::Side::Client => {
                        // The page is the proxy's, not the server's answer:
                        // HAProxy counts it for the frontend and backend only
                        // (a server's `hrsp_*` and `req_tot` are its answers).
                        send_page(client, shared, fe, Some(be), status, true, &mut b.meter).await;
                        return Err(f.error);
                    }
                    _ => return Err(f.error),
                }
            }
        }
    }
}

/// The request rules of one proxy, the frontend's then the backend's:
/// `tcp-request content` (once per request in http mode, as HAProxy runs
/// them per stream), `http-request`, then its stats page. `Some`: the
/// request was answered or refused here.
async fn request_rules(
    client: &mut Conn,
    env: RuleEnv<'_>,
    shared: &Shared,
    fe: &Proxy,
    px: &Proxy,
    b: &mut Bufs,
    unread_body: bool,
) -> Option<Next> {
    let side = if px.id == fe.id {
        &px.frontend_counters
    } else {
        &px.backend_counters
    };
    if hooks::tcp_request_content(px, env, Some(&b.req)) != Verdict::Continue {
        Counters::inc(&side.denied_sess);
        b.meter.trace.term = Some(*b"PR");
        return Some(Next::Close);
    }
    let verdict = hooks::http_request(px, env, &mut b.req);
    b.meter.trace.term = local_term(&verdict);
    if let Some(next) =
        answer::respond(client, shared, fe, px, verdict, unread_body, &mut b.meter).await
    {
        if b.meter.trace.term == Some(*b"PT") {
            // HAProxy logs the tarpit's wait as time in the queue.
            b.meter.trace.queued_ms = Some(crate::clock::refresh());
        }
        return Some(next);
    }
    let next = answer::stats_page(client, shared, fe, px, &b.req, unread_body, &mut b.meter).await;
    if next.is_some() {
        b.meter.trace.term = Some(*b"LR");
    }
    next
}

/// The termination state of a request the `http-request` rules answer:
/// `PR` denied, `PT` tarpitted, `LR` answered by lbd, `None` go on.
fn local_term(verdict: &HttpVerdict) -> Option<[u8; 2]> {
    match verdict {
        HttpVerdict::Continue | HttpVerdict::Allow => None,
        HttpVerdict::Reject | HttpVerdict::Deny(_) => Some(*b"PR"),
        HttpVerdict::Tarpit(_) => Some(*b"PT"),
        _ => Some(*b"LR"),
    }
}

/// The strongest connection mode of the frontend and the backend.
fn conn_mode(fe: &Proxy, be: &Proxy) -> HttpConnMode {
    let rank = |m: HttpConnMode| match m {
        HttpConnMode::KeepAlive => 0,
        HttpConnMode::ServerClose => 1,
        HttpConnMode::Close => 2,
    };
    let (a, b) = (fe.options.http_conn_mode, be.options.http_conn_mode);
    if rank(a) >= rank(b) { a } else { b }
}

/// Rewrites the head for the server: hop-by-hop headers out, the server-side
/// `Connection`, `X-Forwarded-For`, and the body framing.
fn prepare_request(
    req: &mut RequestHead,
    info: &RequestInfo,
    fe: &Proxy,
    be: &Proxy,
    peer: SocketAddr,
    reuse: bool,
    scratch: &mut Vec<u8>,
) {
    headers::strip_hop_by_hop(&mut req.headers, info.upgrade, scratch);
    if info.upgrade {
        req.headers.push(b"connection", b"upgrade");
    } else if !reuse {
        req.headers.push(b"connection", b"close");
    }
    if let Some(ff) = fe
        .options
        .forwardfor
        .as_ref()
        .or(be.options.forwardfor.as_ref())
    {
        headers::add_forwarded_for(&mut req.headers, ff, peer.ip());
    }
    if info.body == Body::Chunked {
        req.headers.push(b"transfer-encoding", b"chunked");
    }
}

/// Sends an error page (the errorfile of `be`, else of `fe`, else HAProxy's)
/// and says whether the connection stays open.
pub(super) async fn send_page(
    client: &mut Conn,
    shared: &Shared,
    fe: &Proxy,
    be: Option<&Proxy>,
    status: u16,
    close: bool,
    meter: &mut StreamMeter,
) -> Next {
    let page_owner = be
        .filter(|b| shared.pages.has_file(b.id, status))
        .unwrap_or(fe);
    let page = shared
        .pages
        .page(Some(page_owner.id), status, close || shared.is_stopping());
    fe.frontend_counters.count_status(status);
    meter.answered(status, page.bytes);
    Counters::add(&fe.frontend_counters.bytes_out, page.bytes.len() as u64);
    if let Some(be) = be {
        be.backend_counters.count_status(status);
    }
    let written = within(fe.timeouts.client_ms, ProxyError::ClientTimeout, async {
        client
            .write_all(page.bytes)
            .await
            .map_err(|_| ProxyError::ClientIo)
    })
    .await;
    if written.is_err() || page.close {
        if written.is_ok() {
            linger_close(client).await;
        }
        return Next::Close;
    }
    Next::KeepAlive
}

/// Closes the write side, then reads and discards what the client still
/// sends for a short while, so that unread request bytes do not turn the
/// close into a reset that would destroy the response in flight.
pub(super) async fn linger_close(client: &mut Conn) {
    if client.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let mut budget: usize = 1 << 20;
    let drain = async {
        while let Ok(n) = client.read(&mut sink).await {
            if n == 0 || n >= budget {
                break;
            }
            budget -= n;
        }
    };
    if tokio::time::timeout(std::time::Duration::from_millis(500), drain)
        .await
        .is_err()
    {
        tracing::debug!("client kept sending after close");
    }
}
