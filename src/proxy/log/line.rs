//! The traffic log line formats: HAProxy's `option httplog`, `option
//! tcplog` and the default `Connect from` line.

use std::fmt::Write as _;
use std::net::SocketAddr;

pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar time (lbd prints dates in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: u32,
    pub(super) day: u32,
    pub(super) hour: u32,
    pub(super) min: u32,
    pub(super) sec: u32,
    pub(super) ms: u32,
}

impl Civil {
    pub(super) fn from_unix_ms(ms: u64) -> Civil {
        let secs = ms / 1000;
        let days = (secs / 86_400) as i64;
        let rem = (secs % 86_400) as u32;
        // Days to a proleptic Gregorian date (the well-known era algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            min: rem / 60 % 60,
            sec: rem % 60,
            ms: (ms % 1000) as u32,
        }
    }
}

/// `[25/Nov/2026:19:36:13.203]`'s inside: HAProxy's accept date.
fn write_accept_date(buf: &mut String, unix_ms: u64) {
    let c = Civil::from_unix_ms(unix_ms);
    put(
        buf,
        format_args!(
            "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
            c.day,
            MONTHS[c.month as usize - 1],
            c.year,
            c.hour,
            c.min,
            c.sec,
            c.ms
        ),
    );
}

/// Connection counts at log time: `actconn/feconn/beconn/srv_conn/retries`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conns {
    pub process: u32,
    pub frontend: u32,
    pub backend: u32,
    pub server: u32,
    pub retries: u32,
    /// A retry went to another server: `+` before `retries`.
    pub redispatched: bool,
}

/// What a traffic log line says about one HTTP request or TCP session.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub client: Option<SocketAddr>,
    /// When the request (HTTP) or connection (TCP) started, wall clock.
    pub start_unix_ms: u64,
    pub frontend: &'a str,
    /// The frontend terminates TLS (`~` after its name).
    pub tls: bool,
    /// `None`: no backend was chosen (the frontend's name is printed).
    pub backend: Option<&'a str>,
    /// `None`: `<NOSRV>`.
    pub server: Option<&'a str>,
    /// Time to receive the request head (`TR`), ms; -1 = never complete.
    pub t_request: i64,
    /// Time in the queue (`Tw`).
    pub t_queue: i64,
    /// Time to connect to the server (`Tc`).
    pub t_connect: i64,
    /// Time for the server's response head (`Tr`).
    pub t_response: i64,
    /// Total active time (`Ta` in HTTP, `Tt` in TCP).
    pub t_total: i64,
    /// `None` prints -1.
    pub status: Option<u16>,
    /// Bytes sent to the client.
    pub bytes: u64,
    /// The termination state's two letters (`--` when normal).
    pub term: [u8; 2],
    pub conns: Conns,
    /// `srv_queue/backend_queue`.
    pub queues: (u32, u32),
    /// The quoted request line, `None` = `<BADREQ>`.
    pub request_line: Option<&'a str>,
}

/// HAProxy's default HTTP format (`option httplog`).
pub fn http_line(e: &Entry<'_>) -> String {
    let mut s = String::with_capacity(160);
    head(&mut s, e);
    put(
        &mut s,
        format_args!(
            " {}/{}/{}/{}/{} ",
            e.t_request, e.t_queue, e.t_connect, e.t_response, e.t_total
        ),
    );
    match e.status {
        Some(st) => {
            put(&mut s, format_args!("{st}"));
        }
        None => s.push_str("-1"),
    }
    put(&mut s, format_args!(" {} - - ", e.bytes));
    s.push(char::from(e.term[0]));
    s.push(char::from(e.term[1]));
    s.push_str("-- ");
    tail(&mut s, e);
    s.push_str(" \"");
    s.push_str(e.request_line.unwrap_or("<BADREQ>"));
    s.push('"');
    s
}

/// HAProxy's TCP format (`option tcplog`).
pub fn tcp_line(e: &Entry<'_>) -> String {
    let mut s = String::with_capacity(120);
    head(&mut s, e);
    put(
        &mut s,
        format_args!(" {}/{}/{} {} ", e.t_queue, e.t_connect, e.t_total, e.bytes),
    );
    s.push(char::from(e.term[0]));
    s.push(char::from(e.term[1]));
    s.push(' ');
    tail(&mut s, e);
    s
}

/// The line logged at accept without `option httplog`/`tcplog`.
pub fn connect_line(client: SocketAddr, local: SocketAddr, frontend: &str, http: bool) -> String {
    let mode = if http { "HTTP" } else { "TCP" };
    format!("Connect from {client} to {local} ({frontend}/{mode})")
}

/// `client [date] frontend backend/server`.
fn head(s: &mut String, e: &Entry<'_>) {
    match e.client {
        Some(c) => {
            put(s, format_args!("{}:{}", c.ip(), c.port()));
        }
        None => s.push_str("-:-"),
    }
    s.push_str(" [");
    write_accept_date(s, e.start_unix_ms);
    s.push_str("] ");
    s.push_str(e.frontend);
    if e.tls {
        s.push('~');
    }
    s.push(' ');
    s.push_str(e.backend.unwrap_or(e.frontend));
    s.push('/');
    s.push_str(e.server.unwrap_or("<NOSRV>"));
}

/// `act/fe/be/srv/retries srv_queue/backend_queue`.
fn tail(s: &mut String, e: &Entry<'_>) {
    let c = e.conns;
    let plus = if c.redispatched { "+" } else { "" };
    put(
        s,
        format_args!(
            "{}/{}/{}/{}/{plus}{} {}/{}",
            c.process, c.frontend, c.backend, c.server, c.retries, e.queues.0, e.queues.1
        ),
    );
}

/// The request line as HAProxy logs it: method, URI and version separated
/// by spaces, with `"`, `#`, control and non-ASCII bytes as `#XX`.
pub fn request_line(method: &[u8], uri: &[u8], version: &[u8]) -> String {
    let mut s = String::with_capacity(method.len() + uri.len() + version.len() + 2);
    for (i, part) in [method, uri, version].into_iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        for &b in part {
            if !(0x20..0x7f).contains(&b) || b == b'"' || b == b'#' {
                put(&mut s, format_args!("#{b:02X}"));
            } else {
                s.push(char::from(b));
            }
        }
    }
    s
}

/// Appends formatted text: writing to a `String` cannot fail.
pub(super) fn put(s: &mut String, args: std::fmt::Arguments<'_>) {
    if s.write_fmt(args).is_err() {
        debug_assert!(false, "formatting into a String failed");
    }
}
