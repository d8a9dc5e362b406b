//! Traffic logs: one line per HTTP request (`option httplog`), per TCP
//! session (`option tcplog`), or per accepted connection (no option), sent
//! to the proxy's `log` targets (and the global ones under `log global`).
//!
//! Workers format the line and hand it to one logger thread through a
//! bounded channel: a worker never waits on a slow destination. When the
//! channel is full the line is dropped and counted ([`Logs::dropped`]).
//! The logger thread adds the syslog header of each target and writes to
//! stdout, stderr, a UDP syslog server or a unix datagram socket.

use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam::channel::{self, Receiver, Sender, TrySendError};

use crate::compile::program::{LogDestination, LogHeader, LogTarget, Program, ProxyId};
use line::{Civil, MONTHS, put};

mod line;
mod record;
pub mod size;
#[cfg(test)]
mod tests;

pub use line::{Conns, Entry, connect_line, http_line, request_line, tcp_line};
pub use record::{Outcome, Pending, Timers, Trace, log_accept, phases, term_state, timers};

/// Lines waiting for the logger thread before new ones are dropped.
const QUEUE_LINES: usize = 8192;

/// Traffic logs are sent at level `info`, as HAProxy does by default.
const LEVEL_INFO: u8 = 6;

/// Syslog facilities in code order (`kern` = 0 ... `local7` = 23).
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog levels in code order (`emerg` = 0 ... `debug` = 7).
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// One formatted line for the targets of a proxy.
struct Msg {
    proxy: ProxyId,
    line: String,
}

/// The log sink shared by the workers of one `serve`.
#[derive(Debug)]
pub struct Logs {
    /// By `ProxyId`: whether the proxy has any target.
    enabled: Vec<bool>,
    tx: Option<Sender<Msg>>,
    dropped: Arc<AtomicU64>,
}

impl Logs {
    /// Starts the logger thread when some proxy logs; without any `log`
    /// line nothing is started and nothing is logged.
    pub fn start(program: &Program) -> std::io::Result<Logs> {
        let targets: Vec<Vec<LogTarget>> = program
            .proxies
            .iter()
            .map(|p| {
                let mut t = p.logs.clone();
                if p.options.log_global {
                    t.extend(program.global.logs.iter().cloned());
                }
                t.retain(|t| sends_level(t, LEVEL_INFO));
                t
            })
            .collect();
        let enabled: Vec<bool> = targets.iter().map(|t| !t.is_empty()).collect();
        let dropped = Arc::new(AtomicU64::new(0));
        if !enabled.contains(&true) {
            return Ok(Logs {
                enabled,
                tx: None,
                dropped,
            });
        }
        let (tx, rx) = channel::bounded(QUEUE_LINES);
        std::thread::Builder::new()
            .name("lbd-log".into())
            .spawn(move || write_loop(&rx, &targets))?;
        Ok(Logs {
            enabled,
            tx: Some(tx),
            dropped,
        })
    }

    /// A sink that logs nothing.
    pub fn disabled(program: &Program) -> Logs {
        Logs {
            enabled: vec![false; program.proxies.len()],
            tx: None,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether `proxy` has a log target (else there is nothing to format).
    pub fn enabled(&self, proxy: ProxyId) -> bool {
        self.enabled.get(proxy.0 as usize).copied().unwrap_or(false)
    }

    /// Queues `line` for `proxy`'s targets, or drops it when the logger is
    /// behind. Never blocks.
    pub fn send(&self, proxy: ProxyId, line: String) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(Msg { proxy, line }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Lines dropped because the logger thread was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Whether `target` sends messages of `level` (its `max` level filter).
fn sends_level(target: &LogTarget, level: u8) -> bool {
    target
        .max_level
        .as_deref()
        .and_then(|m| LEVELS.iter().position(|l| *l == m))
        .is_none_or(|max| usize::from(level) <= max)
}

/// The logger thread: runs until every sender is gone.
fn write_loop(rx: &Receiver<Msg>, targets: &[Vec<LogTarget>]) {
    let mut out = Outputs::default();
    let tag = program_tag();
    let pid = std::process::id();
    let mut buf = String::with_capacity(512);
    while let Ok(msg) = rx.recv() {
        let Some(list) = targets.get(msg.proxy.0 as usize) else {
            continue;
        };
        let now = unix_ms();
        for target in list {
            buf.clear();
            let pri = facility_code(&target.facility) * 8 + u32::from(LEVEL_INFO);
            write_header(&mut buf, target.format, pri, now, &tag, pid);
            buf.push_str(&msg.line);
            buf.push('\n');
            out.write(&target.destination, buf.as_bytes());
        }
    }
}

/// The syslog `<PRI>...` header of one message (RFC 3164 by default).
pub fn write_header(
    buf: &mut String,
    format: LogHeader,
    pri: u32,
    unix_ms: u64,
    tag: &str,
    pid: u32,
) {
    match format {
        LogHeader::Raw => {}
        LogHeader::Short => {
            put(buf, format_args!("<{pri}>"));
        }
        LogHeader::Rfc3164 => {
            let c = Civil::from_unix_ms(unix_ms);
            put(
                buf,
                format_args!(
                    "<{pri}>{} {:2} {:02}:{:02}:{:02} {tag}[{pid}]: ",
                    MONTHS[c.month as usize - 1],
                    c.day,
                    c.hour,
                    c.min,
                    c.sec
                ),
            );
        }
    }
}

fn facility_code(name: &str) -> u32 {
    // `compile::log` only accepts names from this list; `user` otherwise.
    FACILITIES.iter().position(|f| *f == name).unwrap_or(1) as u32
}

/// The syslog tag: the program's name, as HAProxy uses its own.
fn program_tag() -> String {
    std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "lbd".into())
}

/// Sockets of the logger thread, opened on first use.
#[derive(Default)]
struct Outputs {
    udp4: Option<UdpSocket>,
    udp6: Option<UdpSocket>,
    unix: Option<UnixDatagram>,
}

impl Outputs {
    fn write(&mut self, dest: &LogDestination, bytes: &[u8]) {
        let result = match dest {
            LogDestination::Stdout => std::io::stdout().lock().write_all(bytes),
            LogDestination::Stderr => std::io::stderr().lock().write_all(bytes),
            LogDestination::Udp(addr) => self
                .udp(addr)
                .and_then(|s| s.send_to(bytes, addr))
                .map(drop),
            LogDestination::Unix(path) => {
                self.unix().and_then(|s| s.send_to(bytes, path)).map(drop)
            }
        };
        if let Err(e) = result {
            tracing::debug!("log to {dest:?}: {e}");
        }
    }

    fn udp(&mut self, to: &SocketAddr) -> std::io::Result<&UdpSocket> {
        let (slot, bind) = match to {
            SocketAddr::V4(_) => (&mut self.udp4, "0.0.0.0:0"),
            SocketAddr::V6(_) => (&mut self.udp6, "[::]:0"),
        };
        if slot.is_none() {
            *slot = Some(UdpSocket::bind(bind)?);
        }
        slot.as_ref()
            .ok_or_else(|| std::io::Error::other("no socket"))
    }

    fn unix(&mut self) -> std::io::Result<&UnixDatagram> {
        if self.unix.is_none() {
            self.unix = Some(UnixDatagram::unbound()?);
        }
        self.unix
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no socket"))
    }
}

pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
