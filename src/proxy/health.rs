//! Health checks: one thread for the whole process, one task per checked
//! server. A check is a TCP connect, or with `option httpchk` an HTTP request
//! whose status (or body) must match `http-check expect`. Results move
//! HAProxy's health counter: a server goes DOWN after `fall` consecutive
//! failures and UP after `rise` consecutive successes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::conn::Conn;
use super::shared::{Shared, Stop};
use crate::compile::program::{CheckParams, HealthCheck, HttpCheckExpect, Proxy, Server};
use crate::stats::server::CheckStatus;
use crate::stats::{Counters, OpState, ServerState};

/// Starts the checker thread when any server has `check`.
pub fn spawn(shared: Arc<Shared>) -> std::io::Result<Option<JoinHandle<()>>> {
    let any = shared
        .program
        .backends()
        .any(|b| b.servers.iter().any(|s| s.check.is_some()));
    if !any {
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = std::thread::Builder::new()
        .name("lbd-health".into())
        .spawn(move || runtime.block_on(run(shared)))?;
    Ok(Some(handle))
}

async fn run(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    for backend in shared.program.backends() {
        for server in &backend.servers {
            if let Some(params) = server.check {
                tokio::spawn(check_loop(
                    Arc::clone(&shared),
                    backend.id,
                    server.index,
                    params,
                ));
            }
        }
    }
    while *stop.borrow_and_update() == Stop::Running {
        if stop.changed().await.is_err() {
            break;
        }
    }
}

async fn check_loop(
    shared: Arc<Shared>,
    backend: super::ProxyId,
    server: u32,
    params: CheckParams,
) {
    let be = shared.proxy(backend);
    let srv = &be.servers[server as usize];
    let inter = Duration::from_millis(params.inter_ms.max(1));
    // A server with `ssl` is checked over TLS too, unless the check goes to
    // another `port` (as HAProxy does).
    let tls = match params.port {
        None => shared.tls.server(backend, server).cloned(),
        Some(_) => None,
    };
    // `http-check expect rstatus <regex>`, compiled once; a pattern that
    // does not compile never matches (and is logged).
    let status_regex = match &be.health_check {
        HealthCheck::Http {
            expect: HttpCheckExpect::StatusRegex(re),
            ..
        } => match regex::Regex::new(re) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(backend = %be.name, "http-check rstatus '{re}': {e}");
                None
            }
        },
        _ => None,
    };
    loop {
        // No checks while in maintenance, as in HAProxy.
        if srv.state.admin() == crate::stats::AdminState::Maint {
            tokio::time::sleep(inter).await;
            continue;
        }
        let started = tokio::time::Instant::now();
        let outcome = check_once(be, srv, &params, tls.as_ref(), status_regex.as_ref()).await;
        let took = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        srv.state
            .check
            .record(outcome.status, outcome.http_code, took);
        let ok = outcome.status.passed();
        let now = crate::clock::monotonic_ms();
        match record(&srv.state, &params, ok, now) {
            Some(OpState::Down) => {
                Counters::inc(&srv.state.counters.check_downs);
                tracing::warn!("Server {}/{} is DOWN", be.name, srv.name);
            }
            Some(OpState::Up) => {
                tracing::warn!("Server {}/{} is UP", be.name, srv.name);
                shared.backend_rt(backend).queue.wake_one();
            }
            None => {}
        }
        if !ok {
            Counters::inc(&srv.state.counters.check_failures);
        }
        tokio::time::sleep(inter).await;
    }
}

/// Applies one check result to the server's health counter (HAProxy's
/// `check_health`: 0..rise-1 is down, rise..rise+fall-1 is up) and returns
/// the new state when it changed.
pub fn record(state: &ServerState, p: &CheckParams, ok: bool, now_ms: u64) -> Option<OpState> {
    let rise = p.rise.max(1);
    let fall = p.fall.max(1);
    let top = rise + fall - 1;
    let up = state.op() == OpState::Up;
    let mut health = state.check_health.load(Ordering::Relaxed);
    if up && health < rise {
        // First result of a server that starts up: it counts as fully up.
        health = top;
    }
    let changed = if ok {
        if health < top {
            health += 1;
        }
        if !up && health >= rise {
            health = top;
            Some(OpState::Up)
        } else {
            None
        }
    } else {
        if up {
            health = health.saturating_sub(1);
        } else {
            health = 0;
        }
        if up && health < rise {
            health = 0;
            Some(OpState::Down)
        } else {
            None
        }
    };
    state.check_health.store(health, Ordering::Relaxed);
    if let Some(s) = changed {
        state.set_op(s, now_ms);
    }
    changed
}

/// What one check saw: HAProxy's check status and the HTTP status, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub status: CheckStatus,
    pub http_code: u16,
}

impl Outcome {
    fn of(status: CheckStatus) -> Outcome {
        Outcome {
            status,
            http_code: 0,
        }
    }
}

async fn check_once(
    be: &Proxy,
    srv: &Server,
    p: &CheckParams,
    tls: Option<&Arc<rustls::ClientConfig>>,
    status_regex: Option<&regex::Regex>,
) -> Outcome {
    let timeout_ms = be
        .timeouts
        .check_ms
        .or(be.timeouts.connect_ms)
        .unwrap_or(p.inter_ms)
        .min(p.inter_ms.max(1));
    let mut addr = srv.state.addr(srv.addr);
    if let Some(port) = p.port {
        addr.set_port(port);
    }
    let connected = std::sync::atomic::AtomicBool::new(false);
    let attempt = async {
        let Ok(tcp) = TcpStream::connect(addr).await else {
            return Outcome::of(CheckStatus::L4Con);
        };
        connected.store(true, Ordering::Relaxed);
        let mut stream = match (tls, &srv.tls) {
            (Some(config), Some(server_tls)) => {
                let name = crate::tls::server_name(server_tls, addr);
                match crate::tls::connect(Arc::clone(config), name, tcp).await {
                    Ok(conn) => conn,
                    Err(_) => return Outcome::of(CheckStatus::L6Rsp),
                }
            }
            _ => Conn::Plain(tcp),
        };
        match &be.health_check {
            HealthCheck::Tcp => Outcome::of(CheckStatus::L4Ok),
            HealthCheck::Http {
                method,
                uri,
                version,
                expect,
            } => http_check(&mut stream, method, uri, version, expect, status_regex).await,
        }
    };
    match tokio::time::timeout(Duration::from_millis(timeout_ms.max(1)), attempt).await {
        Ok(outcome) => outcome,
        Err(_) if connected.load(Ordering::Relaxed) => match be.health_check {
            HealthCheck::Tcp => Outcome::of(CheckStatus::L4Tout),
            HealthCheck::Http { .. } => Outcome::of(CheckStatus::L7Tout),
        },
        Err(_) => Outcome::of(CheckStatus::L4Tout),
    }
}

async fn http_check(
    stream: &mut Conn,
    method: &str,
    uri: &str,
    version: &str,
    expect: &HttpCheckExpect,
    status_regex: Option<&regex::Regex>,
) -> Outcome {
    let req = format!("{method} {uri} {version}\r\nConnection: close\r\n\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return Outcome::of(CheckStatus::L7Rsp);
    }
    let mut resp = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 || resp.len() > 65_536 {
            break;
        }
        resp.extend_from_slice(&buf[..n]);
        let head_done = resp.windows(4).any(|w| w == b"\r\n\r\n");
        if head_done && !matches!(expect, HttpCheckExpect::BodyContains(_)) {
            break;
        }
    }
    let Some(code) = parse_status(&resp) else {
        return Outcome::of(CheckStatus::L7Rsp);
    };
    let passed = match expect {
        HttpCheckExpect::Success => (200..400).contains(&code),
        HttpCheckExpect::Status(want) => code == *want,
        HttpCheckExpect::StatusRegex(_) => {
            status_regex.is_some_and(|re| re.is_match(&code.to_string()))
        }
        HttpCheckExpect::BodyContains(text) => resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .is_some_and(|at| {
                resp[at + 4..]
                    .windows(text.len().max(1))
                    .any(|w| w == text.as_bytes())
            }),
    };
    Outcome {
        status: if passed {
            CheckStatus::L7Ok
        } else {
            CheckStatus::L7Sts
        },
        http_code: code,
    }
}

/// `HTTP/1.x NNN ...` → NNN.
fn parse_status(resp: &[u8]) -> Option<u16> {
    let line_end = resp.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&resp[..line_end]).ok()?;
    let mut words = line.split_ascii_whitespace();
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(rise: u32, fall: u32) -> CheckParams {
        CheckParams {
            inter_ms: 100,
            fall,
            rise,
            port: None,
        }
    }

    #[test]
    fn goes_down_after_fall_failures_and_up_after_rise_successes() {
        let s = ServerState::new(1, false);
        let p = params(2, 3);
        assert_eq!(record(&s, &p, true, 1), None);
        assert_eq!(record(&s, &p, false, 2), None);
        assert_eq!(record(&s, &p, false, 3), None);
        assert_eq!(record(&s, &p, false, 4), Some(OpState::Down));
        assert_eq!(s.op(), OpState::Down);
        assert_eq!(record(&s, &p, true, 5), None);
        assert_eq!(record(&s, &p, false, 6), None);
        assert_eq!(record(&s, &p, true, 7), None);
        assert_eq!(record(&s, &p, true, 8), Some(OpState::Up));
        assert_eq!(s.op(), OpState::Up);
        // A success in between resets the fall count.
        assert_eq!(record(&s, &p, false, 9), None);
        assert_eq!(record(&s, &p, true, 10), None);
        assert_eq!(record(&s, &p, false, 11), None);
        assert_eq!(record(&s, &p, false, 12), None);
        assert_eq!(record(&s, &p, false, 13), Some(OpState::Down));
    }

    #[test]
    fn status_parsing_and_patterns() {
        assert_eq!(parse_status(b"HTTP/1.1 204 No Content\r\n\r\n"), Some(204));
        assert_eq!(parse_status(b"garbage\r\n"), None);
    }
}
