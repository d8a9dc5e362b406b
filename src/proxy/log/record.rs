//! From the end of a stream (an HTTP request or a TCP session) to its log
//! line and its time statistics: timers, termination state, connection
//! counts, retries.

use std::net::SocketAddr;

use super::line::{Conns, Entry, connect_line, http_line, request_line, tcp_line};
use super::unix_ms;
use crate::compile::program::{Mode, Proxy, ProxyId};
use crate::proxy::error::ProxyError;
use crate::proxy::shared::Shared;
use crate::rules::message::RequestHead;
use crate::stats::{Counters, Phases};

/// What the data plane learned about a stream's path, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trace {
    pub backend: Option<ProxyId>,
    /// Index of the server in the backend.
    pub server: Option<u32>,
    /// Clock ms when the server connection was first asked for.
    pub connect_start_ms: Option<u64>,
    /// Clock ms when the last server was assigned (after any wait in the
    /// queue), or when the queue wait timed out: HAProxy's `t_queue`.
    pub queued_ms: Option<u64>,
    /// Clock ms when the server connection was ready.
    pub connected_ms: Option<u64>,
    /// Clock ms when the server's (final) response head arrived.
    pub responded_ms: Option<u64>,
    /// Place taken in the backend queue when the request had to wait for
    /// a server slot (1 = first), 0 when it did not wait: the log's
    /// `backend_queue`.
    pub queue_position: u32,
    /// Connection retries done (the log's `retries`).
    pub retries: u32,
    /// A retry went to another server (`+` before the retries).
    pub redispatched: bool,
    /// Set when lbd ended the stream itself: `PR` (denied by a rule), `LR`
    /// (answered locally), `SC` (no server connection)...
    pub term: Option<[u8; 2]>,
}

/// How a stream ended, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    /// Bytes received from the client and sent to it.
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub trace: Trace,
    pub error: Option<ProxyError>,
}

/// Which line a frontend logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Http,
    Tcp,
    Connect,
}

fn style(fe: &Proxy) -> Style {
    match (fe.mode, fe.options.httplog, fe.options.tcplog) {
        (Mode::Http, true, _) => Style::Http,
        (Mode::Tcp, true, _) | (_, false, true) => Style::Tcp,
        _ => Style::Connect,
    }
}

/// Logs the `Connect from` line of a frontend without `option httplog` or
/// `option tcplog`, at accept.
pub fn log_accept(shared: &Shared, fe: &Proxy, client: SocketAddr, local: SocketAddr) {
    if shared.logs.enabled(fe.id) && style(fe) == Style::Connect {
        let line = connect_line(client, local, &fe.name, fe.mode == Mode::Http);
        shared.logs.send(fe.id, line);
    }
}

/// A stream being served: its start, for its time statistics and, when
/// the frontend logs, its log line.
#[derive(Debug)]
pub struct Pending {
    start_unix_ms: u64,
    start_ms: u64,
    /// `TR`/`Tq`: ms to receive the request head; -1 without one (TCP).
    t_request: i64,
    /// How long the stream waited before the request's first byte (after
    /// the accept, or after the previous request on the connection): in
    /// HAProxy's total time for `ttime`, not in the log's `Ta`.
    idle_ms: u64,
    request_line: Option<String>,
    /// The frontend logs this stream.
    log: bool,
}

impl Pending {
    /// Starts an HTTP request whose head is `req`, received in `t_request`
    /// ms after its first byte, which came `idle_ms` after the stream
    /// started.
    pub fn http(
        shared: &Shared,
        fe: &Proxy,
        req: &RequestHead,
        t_request: i64,
        idle_ms: u64,
    ) -> Pending {
        let style = style(fe);
        let log = shared.logs.enabled(fe.id) && style != Style::Connect;
        let line = (log && style == Style::Http)
            .then(|| request_line(req.method(), req.uri(), req.version.as_bytes()));
        // The request (its date and `Ta`) starts with its first byte.
        let head = u64::try_from(t_request).unwrap_or(0);
        let now = crate::clock::now_ms();
        Pending {
            start_unix_ms: if log {
                unix_ms().saturating_sub(head)
            } else {
                0
            },
            start_ms: now.saturating_sub(head),
            t_request,
            idle_ms,
            request_line: line,
            log,
        }
    }

    /// Starts a TCP session (or an HTTP connection that sent no valid
    /// request), with `start_ms` its accept time.
    pub fn session(shared: &Shared, fe: &Proxy, start_ms: u64) -> Pending {
        let log = shared.logs.enabled(fe.id) && style(fe) != Style::Connect;
        let now = crate::clock::now_ms();
        Pending {
            start_unix_ms: if log {
                unix_ms().saturating_sub(now.saturating_sub(start_ms))
            } else {
                0
            },
            start_ms,
            t_request: -1,
            idle_ms: 0,
            request_line: None,
            log,
        }
    }

    /// Ends the stream: feeds the time statistics of its backend and
    /// server, then formats and queues its log line.
    pub fn finish(self, shared: &Shared, fe: &Proxy, client: SocketAddr, out: &Outcome) {
        let now = crate::clock::now_ms();
        let be = out.trace.backend.map(|id| shared.proxy(id));
        if let Some(be) = be {
            let http = be.mode == Mode::Http;
            let stream_start = self.start_ms.saturating_sub(self.idle_ms);
            let request_done = self
                .start_ms
                .saturating_add(u64::try_from(self.t_request).unwrap_or(0));
            if let Some(p) = phases(&out.trace, stream_start, request_done, now, http) {
                record_phases(be, out.trace.server, p);
            }
        }
        if !self.log || (fe.options.dontlognull && out.bytes_in == 0) {
            return;
        }
        let t = &out.trace;
        let server = be
            .zip(t.server)
            .and_then(|(be, s)| be.servers.get(s as usize));
        // A tarpitted request logs no request time (`-1`), as in HAProxy,
        // and its wait as `Tw`.
        let t_request = if t.term == Some(*b"PT") {
            -1
        } else {
            self.t_request
        };
        let timers = timers(t, self.start_ms, t_request, now);
        let process = shared.program.global.maxconn.max(1) as usize;
        let in_use = process.saturating_sub(shared.global_conns.available_permits());
        let read = |c: &std::sync::atomic::AtomicU32| c.load(std::sync::atomic::Ordering::Relaxed);
        let entry = Entry {
            client: Some(client),
            start_unix_ms: self.start_unix_ms,
            frontend: &fe.name,
            tls: fe.binds.iter().any(|b| b.tls.is_some()),
            backend: be.map(|b| b.name.as_str()),
            server: server.map(|s| s.name.as_str()),
            t_request,
            t_queue: timers.queue,
            t_connect: timers.connect,
            t_response: timers.response,
            t_total: timers.total,
            status: out.status,
            bytes: out.bytes_out,
            term: t
                .term
                .unwrap_or_else(|| term_state(out.error, t, out.status)),
            conns: Conns {
                process: u32::try_from(in_use).unwrap_or(u32::MAX),
                frontend: read(&fe.frontend_counters.cur_sessions),
                backend: be.map_or(0, |b| read(&b.backend_counters.cur_sessions)),
                server: server.map_or(0, |s| read(&s.state.cur_conns)),
                retries: t.retries,
                redispatched: t.redispatched,
            },
            // lbd queues in the backend only, never behind one server.
            queues: (0, t.queue_position),
            request_line: self.request_line.as_deref(),
        };
        let line = match style(fe) {
            Style::Http => http_line(&entry),
            _ => tcp_line(&entry),
        };
        shared.logs.send(fe.id, line);
    }
}

/// The log line's timers in ms, -1 for a phase that never happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// `Tw`: from the end of the request head (or, without one, from one ms
    /// before the start, as HAProxy computes it) to the server assignment.
    pub queue: i64,
    /// `Tc`: from the assignment to the established connection.
    pub connect: i64,
    /// `Tr`: from the connection to the response head.
    pub response: i64,
    /// `Ta` (HTTP) / `Tt` (TCP): the whole stream.
    pub total: i64,
}

/// The timers of a stream that started at `start_ms` (clock ms), whose head
/// took `t_request` ms (-1: none), ending at `now_ms`.
pub fn timers(t: &Trace, start_ms: u64, t_request: i64, now_ms: u64) -> Timers {
    let elapsed = |from: Option<u64>, to: Option<u64>| match (from, to) {
        (Some(a), Some(b)) => ms_i64(b.saturating_sub(a)),
        _ => -1,
    };
    Timers {
        queue: t.queued_ms.map_or(-1, |q| {
            ms_i64(q.saturating_sub(start_ms)).saturating_sub(t_request)
        }),
        connect: elapsed(t.queued_ms, t.connected_ms),
        response: elapsed(t.connected_ms, t.responded_ms),
        total: ms_i64(now_ms.saturating_sub(start_ms)),
    }
}

/// The sample a finished stream gives to `qtime` ... `ttime`, as HAProxy
/// takes it: none without a server connection, nor in HTTP without a
/// response head; the response time is 0 in TCP. The queue time runs from
/// `request_done_ms` (the head received, or the start without one), the
/// total from `stream_start_ms` (the accept, or the end of the previous
/// request on a kept-alive connection).
pub fn phases(
    t: &Trace,
    stream_start_ms: u64,
    request_done_ms: u64,
    now_ms: u64,
    http: bool,
) -> Option<Phases> {
    let queued = t.queued_ms?;
    let connected = t.connected_ms?;
    let data = if http { t.responded_ms? } else { connected };
    let ms = |from: u64, to: u64| u32::try_from(to.saturating_sub(from)).unwrap_or(u32::MAX);
    Some(Phases {
        queue_ms: ms(request_done_ms, queued),
        connect_ms: ms(queued, connected),
        response_ms: ms(connected, data),
        total_ms: ms(stream_start_ms, now_ms),
    })
}

/// Adds `p` to the time statistics of `be` and of its server `server`.
fn record_phases(be: &Proxy, server: Option<u32>, p: Phases) {
    let http = be.mode == Mode::Http;
    if let Some(s) = server.and_then(|i| be.servers.get(i as usize)) {
        let c = &s.state.counters;
        let requests = if http {
            c.responses()
        } else {
            Counters::read(&c.lb_total)
        };
        c.times.record(p, requests);
    }
    let c = &*be.backend_counters;
    let requests = if http {
        Counters::read(&c.http_requests)
    } else {
        Counters::read(&c.sessions_total)
    };
    c.times.record(p, requests);
}

fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// HAProxy's two termination letters: who ended the stream (`C`lient,
/// `S`erver, `P`roxy, `K`illed; lower case for a timeout) and in which
/// phase (`R`equest, `Q`ueue, `C`onnect, `H`eaders, `D`ata).
pub fn term_state(error: Option<ProxyError>, trace: &Trace, status: Option<u16>) -> [u8; 2] {
    use ProxyError::*;
    let Some(error) = error else {
        return *b"--";
    };
    let phase = match (trace.connected_ms, status) {
        (Some(_), Some(_)) => b'D',
        (Some(_), None) => b'H',
        (None, _) if trace.connect_start_ms.is_some() => b'C',
        (None, _) => b'R',
    };
    match error {
        ClientClosed | ClientIo => [b'C', phase],
        ClientTimeout => [b'c', phase],
        RequestTimeout => *b"cR",
        BadRequest(_) | UriTooLong | HeadersTooLarge | NotImplemented => *b"PR",
        NoBackend => *b"PR",
        NoServer | ConnectFailed => *b"SC",
        QueueTimeout => *b"sQ",
        ServerTimeout => [b's', phase],
        BadResponse(_) | ServerIo => [b'S', phase],
        Stopping | Killed => [b'K', phase],
    }
}
