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

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::time::Instant;

use super::buffer::Buf;
use super::codec::{self, Body, RequestInfo};
use super::framing::{self, Errs, Leg};
use super::headers;
use super::within;
use crate::compile::program::{HttpConnMode, Proxy};
use crate::proxy::ProxyError;
use crate::proxy::balance::PickCtx;
use crate::proxy::connect::{self, Connected};
use crate::proxy::hooks::{self, Verdict};
use crate::proxy::pool;
use crate::proxy::session::tunnel_idle_ms;
use crate::proxy::shared::Shared;
use crate::proxy::tcp::{self, Meters};
use crate::rules::message::{RequestHead, ResponseHead, Version};
use crate::stats::Counters;

/// Buffers of one client connection, reused by every request on it.
struct Bufs {
    client: Buf,
    server: Buf,
    req: RequestHead,
    resp: ResponseHead,
    /// Serialized heads.
    out: Vec<u8>,
    /// Chunk re-framing and header scratch, one per direction.
    up: Vec<u8>,
    down: Vec<u8>,
}

/// What happens to the client connection after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

const UP_ERRS: Errs = Errs {
    closed: ProxyError::ClientClosed,
    read: ProxyError::ClientIo,
    write: ProxyError::ServerIo,
    timeout: ProxyError::ClientTimeout,
    malformed: ProxyError::BadRequest("invalid chunked body"),
};

const DOWN_ERRS: Errs = Errs {
    closed: ProxyError::BadResponse("server closed mid-body"),
    read: ProxyError::ServerIo,
    write: ProxyError::ClientIo,
    timeout: ProxyError::ServerTimeout,
    malformed: ProxyError::BadResponse("invalid chunked body"),
};

pub async fn run(
    mut client: TcpStream,
    peer: SocketAddr,
    fe: &Proxy,
    shared: &Shared,
) -> Result<(), ProxyError> {
    let bufsize = shared.program.global.tune_bufsize as usize;
    let mut b = Bufs {
        client: Buf::new(bufsize),
        server: Buf::new(bufsize),
        req: RequestHead::new(),
        resp: ResponseHead::new(),
        out: Vec::with_capacity(1024),
        up: Vec::new(),
        down: Vec::new(),
    };
    let mut first = true;
    loop {
        let info = match read_head(&mut client, &mut b, fe, shared, first).await {
            Ok(Some(info)) => info,
            Ok(None) => return Ok(()),
            Err(e) => {
                if matches!(e.status(), Some(400 | 408 | 414 | 431 | 501)) {
                    Counters::inc(&fe.frontend_counters.errors_req);
                    send_page(
                        &mut client,
                        shared,
                        fe,
                        None,
                        e.status().unwrap_or(400),
                        true,
                    )
                    .await;
                }
                return Err(e);
            }
        };
        first = false;
        Counters::add(&fe.frontend_counters.bytes_in, info.head_len as u64);
        match serve_request(&mut client, peer, fe, shared, &mut b, info).await? {
            Next::KeepAlive => {}
            Next::Close => {
                linger_close(&mut client).await;
                return Ok(());
            }
        }
    }
}

/// Reads the next request head. `Ok(None)`: the client left (or the
/// keep-alive wait ended) between requests: close without a word.
async fn read_head(
    client: &mut TcpStream,
    b: &mut Bufs,
    fe: &Proxy,
    shared: &Shared,
    first: bool,
) -> Result<Option<RequestInfo>, ProxyError> {
    let bufsize = b.client.capacity();
    let request_ms = fe.timeouts.http_request_ms.or(fe.timeouts.client_ms);
    if !first && b.client.is_empty() {
        if shared.is_stopping() {
            return Ok(None);
        }
        let keep_alive_ms = fe.timeouts.http_keep_alive_ms.or(request_ms);
        let mut stop = shared.stop.subscribe();
        let idle = within(keep_alive_ms, ProxyError::ClientTimeout, async {
            b.client
                .fill(client)
                .await
                .map_err(|_| ProxyError::ClientIo)
        });
        tokio::select! {
            r = idle => match r {
                Ok(0) | Err(ProxyError::ClientTimeout) => return Ok(None),
                Ok(_) => {}
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
    }
}

/// Serves one parsed request to its end.
async fn serve_request(
    client: &mut TcpStream,
    peer: SocketAddr,
    fe: &Proxy,
    shared: &Shared,
    b: &mut Bufs,
    info: RequestInfo,
) -> Result<Next, ProxyError> {
    crate::clock::refresh();
    Counters::inc(&fe.frontend_counters.http_requests);
    // Pages answered before the body is read close the connection, and so
    // does a client that asked for it.
    let unread_body = info.body != Body::None
        || info.conn.close
        || (b.req.version == Version::Http10 && !info.conn.keep_alive);
    // Evaluation point: `tcp-request content` (in http mode, per request).
    if hooks::tcp_request_content(fe, peer, Some(&b.req)) != Verdict::Continue {
        Counters::inc(&fe.frontend_counters.denied_sess);
        return Ok(Next::Close);
    }
    // Evaluation point: the frontend's `http-request` rules.
    match hooks::http_request(fe, peer, &mut b.req) {
        Verdict::Continue => {}
        Verdict::Reject => {
            Counters::inc(&fe.frontend_counters.denied_req);
            return Ok(Next::Close);
        }
        Verdict::Deny(status) => {
            Counters::inc(&fe.frontend_counters.denied_req);
            return Ok(send_page(client, shared, fe, None, status, unread_body).await);
        }
    }
    // Evaluation point: `use_backend` / `default_backend`.
    let Some(be) = hooks::select_backend(fe, Some(&b.req)).map(|id| shared.proxy(id)) else {
        return Ok(send_page(client, shared, fe, None, 503, unread_body).await);
    };
    Counters::inc(&be.backend_counters.sessions_total);
    Counters::inc(&be.backend_counters.http_requests);
    if be.id != fe.id {
        // Evaluation point: the backend's `http-request` rules.
        if let Verdict::Deny(status) = hooks::http_request(be, peer, &mut b.req) {
            Counters::inc(&be.backend_counters.denied_req);
            return Ok(send_page(client, shared, fe, Some(be), status, unread_body).await);
        }
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
        let mut conn = match connect::connect(shared, be, &ctx, pooled).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(backend = %be.name, "no server connection: {e}");
                let status = e.status().unwrap_or(503);
                return Ok(send_page(client, shared, fe, Some(be), status, unread_body).await);
            }
        };
        let ex = Exchange {
            fe,
            be,
            shared,
            info,
            client_close,
            reused: conn.reused,
        };
        match ex.run(client, &mut conn, b).await {
            Ok(done) => return Ok(ex.finish(client, conn, b, done, reuse).await),
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
                match f.error.status() {
                    Some(status) if f.error.side() != crate::proxy::Side::Client => {
                        send_page(client, shared, fe, Some(be), status, true).await;
                        server.state.counters.count_status(status);
                        return Err(f.error);
                    }
                    _ => return Err(f.error),
                }
            }
        }
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

/// How a response ended.
#[derive(Debug, Clone, Copy)]
enum Done {
    Response {
        close_client: bool,
        server_reusable: bool,
    },
    Tunnel,
}

/// A failed exchange: whether anything reached the client, and whether the
/// request may be replayed on another connection.
#[derive(Debug, Clone, Copy)]
struct Fail {
    error: ProxyError,
    head_sent: bool,
    retryable: bool,
}

impl Fail {
    fn new(error: ProxyError) -> Fail {
        Fail {
            error,
            head_sent: false,
            retryable: false,
        }
    }
}

struct Exchange<'a> {
    fe: &'a Proxy,
    be: &'a Proxy,
    shared: &'a Shared,
    info: RequestInfo,
    client_close: bool,
    reused: bool,
}

impl Exchange<'_> {
    /// Sends the head, then streams the request body while relaying the
    /// response.
    async fn run(
        &self,
        client: &mut TcpStream,
        conn: &mut Connected,
        b: &mut Bufs,
    ) -> Result<Done, Fail> {
        let server_ms = self.be.timeouts.server_ms;
        let client_ms = self.fe.timeouts.client_ms;
        // A body already fully received goes out with the head in one write.
        let mut body = self.info.body;
        if let Body::Length(n) = body
            && (b.client.len() as u64) >= n
        {
            let n = n as usize;
            b.out.extend_from_slice(&b.client.filled()[..n]);
            b.client.consume(n);
            Counters::add(&self.fe.frontend_counters.bytes_in, n as u64);
            body = Body::None;
        }
        let sent = framing::write_within(&mut conn.stream, &b.out, server_ms, UP_ERRS).await;
        if let Err(e) = sent {
            return Err(Fail {
                error: e,
                head_sent: false,
                retryable: true,
            });
        }
        let server = &self.be.servers[conn.slot.server as usize];
        Counters::add(&self.be.backend_counters.bytes_in, b.out.len() as u64);
        Counters::add(&server.state.counters.bytes_in, b.out.len() as u64);
        let Bufs {
            client: cbuf,
            server: sbuf,
            req,
            resp,
            out,
            up,
            down,
        } = b;
        let (mut cr, mut cw) = client.split();
        let (mut sr, mut sw) = conn.stream.split();
        let upload = async {
            let mut leg = Leg {
                r: &mut cr,
                buf: cbuf,
                w: &mut sw,
                read_ms: client_ms,
                write_ms: server_ms,
                errs: UP_ERRS,
            };
            match body {
                Body::None | Body::UntilClose => Ok(0),
                Body::Length(n) => leg.length(n).await,
                Body::Chunked => leg.chunked(true, up).await,
            }
        };
        let relay = Relay {
            x: self,
            server,
            req,
            client_v11: req.version == Version::Http11,
        };
        let download = relay.run(&mut sr, sbuf, &mut cw, resp, out, down);
        tokio::pin!(upload);
        tokio::pin!(download);
        let mut uploaded = None;
        let mut done = None;
        while uploaded.is_none() || done.is_none() {
            tokio::select! {
                r = &mut upload, if uploaded.is_none() => match r {
                    Ok(n) => uploaded = Some(n),
                    Err(e) => return Err(Fail { error: e, head_sent: done.is_some(), retryable: false }),
                },
                r = &mut download, if done.is_none() => match r {
                    Ok(d) => done = Some(d),
                    Err(f) => return Err(f),
                },
            }
        }
        let n = uploaded.unwrap_or(0);
        Counters::add(&self.fe.frontend_counters.bytes_in, n);
        Counters::add(&self.be.backend_counters.bytes_in, n);
        Counters::add(&server.state.counters.bytes_in, n);
        done.ok_or(Fail::new(ProxyError::BadResponse("no response")))
    }

    /// After a complete exchange: tunnel, pool or close the server
    /// connection, and say whether the client connection stays.
    async fn finish(
        &self,
        client: &mut TcpStream,
        mut conn: Connected,
        b: &mut Bufs,
        done: Done,
        reuse: bool,
    ) -> Next {
        match done {
            Done::Tunnel => {
                let server = &self.be.servers[conn.slot.server as usize];
                let meters = Meters {
                    frontend: &self.fe.frontend_counters,
                    backend: &self.be.backend_counters,
                    server: &server.state.counters,
                };
                let idle = tunnel_idle_ms(self.fe, self.be);
                let bufsize = b.client.capacity();
                let r = tcp::pipe(
                    client,
                    &mut conn.stream,
                    idle,
                    bufsize,
                    meters,
                    b.client.filled(),
                    b.server.filled(),
                )
                .await;
                if let Err(e) = r {
                    tracing::debug!("tunnel ended: {e}");
                }
                b.client.clear();
                b.server.clear();
                Next::Close
            }
            Done::Response {
                close_client,
                server_reusable,
            } => {
                let _ = self.reused;
                if reuse && server_reusable && b.server.is_empty() && !self.shared.is_stopping() {
                    pool::put(
                        self.be.id.0,
                        conn.slot.server,
                        conn.stream,
                        crate::clock::now_ms(),
                    );
                } else {
                    b.server.clear();
                }
                if close_client {
                    Next::Close
                } else {
                    Next::KeepAlive
                }
            }
        }
    }
}

/// The response side of one exchange.
struct Relay<'a> {
    x: &'a Exchange<'a>,
    server: &'a crate::compile::program::Server,
    req: &'a RequestHead,
    client_v11: bool,
}

impl Relay<'_> {
    async fn run(
        &self,
        sr: &mut ReadHalf<'_>,
        sbuf: &mut Buf,
        cw: &mut WriteHalf<'_>,
        resp: &mut ResponseHead,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Result<Done, Fail> {
        let x = self.x;
        let server_ms = x.be.timeouts.server_ms;
        let client_ms = x.fe.timeouts.client_ms;
        let is_head = self.req.method() == b"HEAD";
        let mut got_bytes = false;
        loop {
            let info = loop {
                if !sbuf.is_empty() {
                    match codec::parse_response(sbuf.filled(), sbuf.capacity(), is_head, resp) {
                        Ok(Some(i)) => break i,
                        Ok(None) => {}
                        Err(e) => return Err(Fail::new(e)),
                    }
                }
                let n = within(server_ms, ProxyError::ServerTimeout, async {
                    sbuf.fill(sr).await.map_err(|_| ProxyError::ServerIo)
                })
                .await
                .map_err(|e| Fail {
                    error: e,
                    head_sent: false,
                    retryable: !got_bytes && e == ProxyError::ServerIo,
                })?;
                if n == 0 {
                    return Err(Fail {
                        error: ProxyError::BadResponse("server closed before responding"),
                        head_sent: false,
                        retryable: !got_bytes,
                    });
                }
                got_bytes = true;
            };
            sbuf.consume(info.head_len);
            let head_len = info.head_len as u64;
            Counters::add(&x.be.backend_counters.bytes_out, head_len);
            let status = resp.status;
            if (100..200).contains(&status) && status != 101 && !self.client_v11 {
                // An HTTP/1.0 client does not expect interim responses.
                continue;
            }
            if (100..200).contains(&status) && status != 101 {
                // Interim response (100 Continue, 103 Early Hints): relay it
                // and wait for the final one.
                headers::strip_hop_by_hop(&mut resp.headers, false, scratch);
                resp.version = Version::Http11;
                out.clear();
                resp.write_to(out);
                framing::write_within(cw, out, client_ms, DOWN_ERRS)
                    .await
                    .map_err(Fail::new)?;
                continue;
            }
            // Evaluation point: `http-response` rules (backend, then frontend).
            if let Verdict::Deny(_) | Verdict::Reject = hooks::http_response(x.be, self.req, resp) {
                Counters::inc(&x.be.backend_counters.denied_resp);
                return Err(Fail::new(ProxyError::BadResponse("response denied")));
            }
            x.fe.frontend_counters.count_status(status);
            x.be.backend_counters.count_status(status);
            self.server.state.counters.count_status(status);
            if status == 101 {
                if !x.info.upgrade {
                    return Err(Fail::new(ProxyError::BadResponse("101 without upgrade")));
                }
                headers::strip_hop_by_hop(&mut resp.headers, true, scratch);
                resp.headers.push(b"connection", b"upgrade");
                resp.version = Version::Http11;
                out.clear();
                resp.write_to(out);
                framing::write_within(cw, out, client_ms, DOWN_ERRS)
                    .await
                    .map_err(Fail::new)?;
                return Ok(Done::Tunnel);
            }
            return self.body(info, sr, sbuf, cw, resp, out, scratch).await;
        }
    }

    /// Sends the final head and streams the body.
    #[allow(clippy::too_many_arguments)]
    async fn body(
        &self,
        info: codec::ResponseInfo,
        sr: &mut ReadHalf<'_>,
        sbuf: &mut Buf,
        cw: &mut WriteHalf<'_>,
        resp: &mut ResponseHead,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Result<Done, Fail> {
        let x = self.x;
        // How the body goes out: kept length, re-chunked, or raw to close for
        // an HTTP/1.0 client that cannot read chunks.
        let (chunk_out, close_after) = match info.body {
            Body::None | Body::Length(_) => (false, false),
            Body::Chunked | Body::UntilClose => (self.client_v11, !self.client_v11),
        };
        let close_client = x.client_close || close_after;
        headers::strip_hop_by_hop(&mut resp.headers, false, scratch);
        if chunk_out {
            resp.headers.push(b"transfer-encoding", b"chunked");
        }
        if close_client {
            resp.headers.push(b"connection", b"close");
        } else if !self.client_v11 {
            resp.headers.push(b"connection", b"keep-alive");
        }
        let server_v11 = resp.version == Version::Http11;
        resp.version = Version::Http11;
        out.clear();
        resp.write_to(out);
        let client_ms = x.fe.timeouts.client_ms;
        // A body already fully read goes out with the head in one write.
        let mut body = info.body;
        if let Body::Length(n) = body
            && (sbuf.len() as u64) >= n
        {
            let n = n as usize;
            out.extend_from_slice(&sbuf.filled()[..n]);
            sbuf.consume(n);
            body = Body::None;
        }
        framing::write_within(cw, out, client_ms, DOWN_ERRS)
            .await
            .map_err(Fail::new)?;
        let mut leg = Leg {
            r: sr,
            buf: sbuf,
            w: cw,
            read_ms: x.be.timeouts.server_ms,
            write_ms: client_ms,
            errs: DOWN_ERRS,
        };
        let sent_fail = |e| Fail {
            error: e,
            head_sent: true,
            retryable: false,
        };
        let n = match body {
            Body::None => 0,
            Body::Length(n) => leg.length(n).await.map_err(sent_fail)?,
            Body::Chunked => leg.chunked(chunk_out, scratch).await.map_err(sent_fail)?,
            Body::UntilClose => leg
                .until_close(chunk_out, scratch)
                .await
                .map_err(sent_fail)?,
        };
        let total = n + out.len() as u64;
        Counters::add(&x.fe.frontend_counters.bytes_out, total);
        Counters::add(&x.be.backend_counters.bytes_out, n);
        Counters::add(&self.server.state.counters.bytes_out, total);
        Ok(Done::Response {
            close_client,
            server_reusable: server_v11 && !info.conn.close && info.body != Body::UntilClose,
        })
    }
}

/// Sends an error page (the errorfile of `be`, else of `fe`, else HAProxy's)
/// and says whether the connection stays open.
async fn send_page(
    client: &mut TcpStream,
    shared: &Shared,
    fe: &Proxy,
    be: Option<&Proxy>,
    status: u16,
    close: bool,
) -> Next {
    let page_owner = be
        .filter(|b| shared.pages.has_file(b.id, status))
        .unwrap_or(fe);
    let page = shared
        .pages
        .page(Some(page_owner.id), status, close || shared.is_stopping());
    fe.frontend_counters.count_status(status);
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
async fn linger_close(client: &mut TcpStream) {
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
