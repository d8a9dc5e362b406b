//! From the end of a stream (an HTTP request or a TCP session) to its log
//! line: timers, termination state, connection counts.

use std::net::SocketAddr;

use super::line::{Conns, Entry, connect_line, http_line, request_line, tcp_line};
use super::unix_ms;
use crate::compile::program::{Mode, Proxy, ProxyId};
use crate::proxy::error::ProxyError;
use crate::proxy::shared::Shared;
use crate::rules::message::RequestHead;

/// What the data plane learned about a stream's path, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trace {
    pub backend: Option<ProxyId>,
    /// Index of the server in the backend.
    pub server: Option<u32>,
    /// Clock ms when the server connection was first asked for.
    pub connect_start_ms: Option<u64>,
    /// Clock ms when the server connection was ready.
    pub connected_ms: Option<u64>,
    /// Clock ms when the server's (final) response head arrived.
    pub responded_ms: Option<u64>,
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

/// A stream being served that will be logged at its end.
#[derive(Debug)]
pub struct Pending {
    start_unix_ms: u64,
    start_ms: u64,
    t_request: i64,
    request_line: Option<String>,
}

impl Pending {
    /// Starts the log of an HTTP request whose head is `req`, received in
    /// `t_request` ms; `None` when the frontend does not log requests.
    pub fn http(shared: &Shared, fe: &Proxy, req: &RequestHead, t_request: i64) -> Option<Pending> {
        let style = style(fe);
        if !shared.logs.enabled(fe.id) || style == Style::Connect {
            return None;
        }
        let line = (style == Style::Http)
            .then(|| request_line(req.method(), req.uri(), req.version.as_bytes()));
        // The request (its date and `Ta`) starts with its first byte.
        let mut p = Pending::new(t_request, line);
        let head = u64::try_from(t_request).unwrap_or(0);
        p.start_ms = p.start_ms.saturating_sub(head);
        p.start_unix_ms = p.start_unix_ms.saturating_sub(head);
        Some(p)
    }

    /// Starts the log of a TCP session (or of an HTTP connection that sent
    /// no valid request, with `start_ms` its accept time).
    pub fn session(shared: &Shared, fe: &Proxy, start_ms: u64) -> Option<Pending> {
        if !shared.logs.enabled(fe.id) || style(fe) == Style::Connect {
            return None;
        }
        let now = crate::clock::now_ms();
        let mut p = Pending::new(-1, None);
        p.start_ms = start_ms;
        p.start_unix_ms = p.start_unix_ms.saturating_sub(now.saturating_sub(start_ms));
        Some(p)
    }

    fn new(t_request: i64, request_line: Option<String>) -> Pending {
        Pending {
            start_unix_ms: unix_ms(),
            start_ms: crate::clock::now_ms(),
            t_request,
            request_line,
        }
    }

    /// Formats and queues the line of the finished stream.
    pub fn finish(self, shared: &Shared, fe: &Proxy, client: SocketAddr, out: &Outcome) {
        if fe.options.dontlognull && out.bytes_in == 0 {
            return;
        }
        let now = crate::clock::now_ms();
        let t = &out.trace;
        let be = t.backend.map(|id| shared.proxy(id));
        let server = be
            .zip(t.server)
            .and_then(|(be, s)| be.servers.get(s as usize));
        let elapsed = |from: Option<u64>, to: Option<u64>| match (from, to) {
            (Some(a), Some(b)) => ms_i64(b.saturating_sub(a)),
            _ => -1,
        };
        let t_response = elapsed(t.connected_ms, t.responded_ms);
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
            t_request: self.t_request,
            t_queue: if t.connect_start_ms.is_some() { 0 } else { -1 },
            t_connect: elapsed(t.connect_start_ms, t.connected_ms),
            t_response,
            t_total: ms_i64(now.saturating_sub(self.start_ms)),
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
                retries: 0,
            },
            queues: (
                server.map_or(0, |s| read(&s.state.queued)),
                t.backend
                    .and_then(|id| shared.backends.get(id.0 as usize))
                    .map_or(0, |b| b.queue.waiting()),
            ),
            request_line: self.request_line.as_deref(),
        };
        let line = match style(fe) {
            Style::Http => http_line(&entry),
            _ => tcp_line(&entry),
        };
        shared.logs.send(fe.id, line);
    }
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
