//! One request/response exchange on a server connection: the head is
//! sent, then the request body is streamed while the response is relayed
//! (so `Expect: 100-continue` and early answers work), and afterwards the
//! server connection is pooled, closed, or turned into a tunnel.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::proxy::conn::{self, Conn};
use crate::proxy::conn::{ReadHalf, WriteHalf};

use super::buffer::Buf;
use super::codec::{self, Body, RequestInfo};
use super::framing::{self, Leg};
use super::headers;
use super::session::{Bufs, DOWN_ERRS, Next, UP_ERRS};
use super::timer::LazyTimer;
use crate::compile::program::Proxy;
use crate::proxy::ProxyError;
use crate::proxy::connect::Connected;
use crate::proxy::hooks::{self, RuleEnv, Verdict};
use crate::proxy::log;
use crate::proxy::pool;
use crate::proxy::session::tunnel_idle_ms;
use crate::proxy::shared::Shared;
use crate::proxy::tcp::{self, Meters};
use crate::rules::message::{RequestHead, ResponseHead, Version};
use crate::stats::Counters;

/// How a response ended.
#[derive(Debug, Clone, Copy)]
pub(super) enum Done {
    Response {
        close_client: bool,
        server_reusable: bool,
        /// Request body bytes sent to the server.
        body_in: u64,
        /// Response body bytes sent to the client.
        body_out: u64,
        /// The response head as the log counts it (`log::size`).
        head_out: u64,
    },
    Tunnel,
}

/// A failed exchange: whether anything reached the client, and whether the
/// request may be replayed on another connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fail {
    pub(super) error: ProxyError,
    pub(super) head_sent: bool,
    pub(super) retryable: bool,
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

pub(super) struct Exchange<'a> {
    pub(super) fe: &'a Proxy,
    pub(super) be: &'a Proxy,
    pub(super) shared: &'a Shared,
    pub(super) info: RequestInfo,
    pub(super) client_close: bool,
    /// The session's rules, for the `http-response` evaluation point.
    pub(super) env: RuleEnv<'a>,
}

impl Exchange<'_> {
    /// Sends the head, then streams the request body while relaying the
    /// response.
    pub(super) async fn run(
        &self,
        client: &mut Conn,
        conn: &mut Connected,
        b: &mut Bufs,
    ) -> Result<Done, Fail> {
        let server_ms = self.be.timeouts.server_ms;
        let client_ms = self.fe.timeouts.client_ms;
        // A body already fully received goes out with the head in one write.
        let mut body = self.info.body;
        let mut head_body = 0;
        if let Body::Length(n) = body
            && (b.client.len() as u64) >= n
        {
            let n = n as usize;
            b.out.extend_from_slice(&b.client.filled()[..n]);
            b.client.consume(n);
            Counters::add(&self.fe.frontend_counters.bytes_in, n as u64);
            head_body = n as u64;
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
            meter,
            timer,
            ..
        } = b;
        // When the final response head arrived (clock ms), for the log's `Tr`.
        let head_ms = AtomicU64::new(0);
        let (mut cr, mut cw) = conn::split(client);
        let (mut sr, mut sw) = conn::split(&mut conn.stream);
        let uploaded_all = AtomicBool::new(matches!(body, Body::None | Body::UntilClose));
        let upload = async {
            let mut leg = Leg {
                r: &mut cr,
                buf: cbuf,
                w: &mut sw,
                read_ms: client_ms,
                write_ms: server_ms,
                errs: UP_ERRS,
                pipes: self.shared.pipes.as_deref(),
            };
            let n = match body {
                Body::None | Body::UntilClose => Ok(0),
                Body::Length(n) => leg.length(n).await,
                Body::Chunked => leg.chunked(true, up).await,
            }?;
            uploaded_all.store(true, Ordering::Relaxed);
            Ok(n)
        };
        let relay = Relay {
            x: self,
            server,
            req,
            client_v11: req.version == Version::Http11,
            head_limit: self.shared.program.global.tune_bufsize as usize,
            uploaded_all: &uploaded_all,
            head_ms: &head_ms,
        };
        let from = FromServer {
            r: &mut sr,
            buf: sbuf,
            timer,
        };
        let download = relay.run(from, &mut cw, resp, out, down);
        tokio::pin!(upload);
        tokio::pin!(download);
        let mut uploaded = None;
        let mut done = None;
        let mut cut = false;
        while uploaded.is_none() || done.is_none() {
            if done.is_some() {
                // The server answered before the whole request body arrived.
                // Take what is ready now, then stop reading the body: the
                // client connection closes (lingering) after the response
                // instead of waiting for a body nobody reads.
                tokio::select! {
                    biased;
                    r = &mut upload => match r {
                        Ok(n) => uploaded = Some(n),
                        Err(e) => return Err(Fail { error: e, head_sent: true, retryable: false }),
                    },
                    () = std::future::ready(()) => {
                        cut = true;
                        break;
                    }
                }
                continue;
            }
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
        meter.trace.responded_ms = Some(head_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0);
        Counters::add(&self.fe.frontend_counters.bytes_in, n);
        Counters::add(&self.be.backend_counters.bytes_in, n);
        Counters::add(&server.state.counters.bytes_in, n);
        match done {
            Some(Done::Response {
                close_client,
                server_reusable,
                body_out,
                head_out,
                ..
            }) => Ok(Done::Response {
                close_client: close_client || cut,
                server_reusable: server_reusable && !cut,
                body_in: n + head_body,
                body_out,
                head_out,
            }),
            Some(Done::Tunnel) => Ok(Done::Tunnel),
            None => Err(Fail::new(ProxyError::BadResponse("no response"))),
        }
    }

    /// After a complete exchange: tunnel, pool or close the server
    /// connection, and say whether the client connection stays.
    pub(super) async fn finish(
        &self,
        client: &mut Conn,
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
                    session: None,
                    shutdown: Some(&server.state.shutdown_gen),
                };
                let idle = tunnel_idle_ms(self.fe, self.be);
                let bufsize = b.client.capacity();
                let transport = tcp::Transport {
                    idle_ms: idle,
                    bufsize,
                    pipes: self.shared.pipes.as_deref(),
                };
                let r = tcp::pipe(
                    client,
                    &mut conn.stream,
                    transport,
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
                ..
            } => {
                let private = self.be.servers[conn.slot.server as usize].send_proxy;
                if reuse
                    && server_reusable
                    && !private
                    && b.server.is_empty()
                    && !self.shared.is_stopping()
                {
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
    /// `tune.bufsize`: the largest response head accepted.
    head_limit: usize,
    /// Set once the whole request body went to the server; a response that
    /// starts before that closes the client connection.
    uploaded_all: &'a AtomicBool,
    /// Set to the clock when a response head is parsed.
    head_ms: &'a AtomicU64,
}

/// Where a response comes from: the server's socket, its read buffer, and
/// the session's timer for the wait for its head.
struct FromServer<'s, 'r> {
    r: &'s mut ReadHalf<'r>,
    buf: &'s mut Buf,
    timer: &'s mut LazyTimer,
}

impl Relay<'_> {
    async fn run(
        &self,
        from: FromServer<'_, '_>,
        cw: &mut WriteHalf<'_>,
        resp: &mut ResponseHead,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Result<Done, Fail> {
        let FromServer {
            r: sr,
            buf: sbuf,
            timer,
        } = from;
        let x = self.x;
        let server_ms = x.be.timeouts.server_ms;
        let client_ms = x.fe.timeouts.client_ms;
        let is_head = self.req.method() == b"HEAD";
        let mut got_bytes = false;
        loop {
            let info = loop {
                if !sbuf.is_empty() {
                    match codec::parse_response(sbuf.filled(), self.head_limit, is_head, resp) {
                        Ok(Some(i)) => break i,
                        Ok(None) => {}
                        Err(e) => return Err(Fail::new(e)),
                    }
                }
                let n = timer
                    .within(server_ms, ProxyError::ServerTimeout, async {
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
            self.head_ms
                .store(crate::clock::refresh(), Ordering::Relaxed);
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
            let denied = hooks::http_response(x.be, x.env, self.req, resp) != Verdict::Continue
                || (x.fe.id != x.be.id
                    && hooks::http_response(x.fe, x.env, self.req, resp) != Verdict::Continue);
            if denied {
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
        let close_client =
            x.client_close || close_after || !self.uploaded_all.load(Ordering::Relaxed);
        let head_out = log::size::response_head(resp, info.body == Body::Chunked);
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
        let mut with_head = 0;
        if let Body::Length(n) = body
            && (sbuf.len() as u64) >= n
        {
            with_head = n;
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
            pipes: x.shared.pipes.as_deref(),
        };
        let sent_fail = |e| Fail {
            error: e,
            head_sent: true,
            retryable: false,
        };
        let n = with_head
            + match body {
                Body::None => 0,
                Body::Length(n) => leg.length(n).await.map_err(sent_fail)?,
                Body::Chunked => leg.chunked(chunk_out, scratch).await.map_err(sent_fail)?,
                Body::UntilClose => leg
                    .until_close(chunk_out, scratch)
                    .await
                    .map_err(sent_fail)?,
            };
        // `out` holds the head and the body bytes sent with it.
        let total = n - with_head + out.len() as u64;
        Counters::add(&x.fe.frontend_counters.bytes_out, total);
        Counters::add(&x.be.backend_counters.bytes_out, n);
        Counters::add(&self.server.state.counters.bytes_out, total);
        Ok(Done::Response {
            close_client,
            server_reusable: server_v11 && !info.conn.close && info.body != Body::UntilClose,
            body_in: 0,
            body_out: n,
            head_out,
        })
    }
}
