//! Test backends for the data-plane tests (plain threads, blocking sockets,
//! loopback only) and a way to run the real `lbd` on a config.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{Proc, Scratch, eventually, free_port, lbd_bin, wait_listening};

/// `lbd -f <cfg>` running until dropped.
pub struct Lbd {
    pub proc: Proc,
    pub dir: Scratch,
}

/// Writes `cfg` and starts lbd on it; waits until `port` accepts.
pub fn start_lbd(label: &str, cfg: &str, port: u16) -> Lbd {
    let dir = Scratch::new(label);
    let path = dir.write("lb.cfg", cfg);
    let proc = Proc::spawn(
        "lbd",
        std::process::Command::new(lbd_bin())
            .arg("-f")
            .arg(&path)
            .current_dir(&dir.path),
    );
    assert!(wait_listening(port), "lbd did not listen on {port}:\n{cfg}");
    Lbd { proc, dir }
}

/// A backend thread that stops (and frees its port) on drop.
pub struct Backend {
    pub port: u16,
    pub name: String,
    /// Connections accepted.
    pub conns: Arc<AtomicUsize>,
    /// Requests (HTTP) or bytes echoed (TCP).
    pub hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock accept().
        if let Ok(s) = TcpStream::connect(("127.0.0.1", self.port)) {
            drop(s);
        }
    }
}

impl Backend {
    pub fn conns(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn spawn_backend(name: &str, port: u16, handler: fn(TcpStream, &str, &AtomicUsize)) -> Backend {
    // A backend restarted on the port of one just dropped may have to wait
    // for the old listener to close.
    let listener = eventually(50, Duration::from_millis(20), || {
        TcpListener::bind(("127.0.0.1", port)).ok()
    })
    .unwrap_or_else(|| panic!("bind backend {port}"));
    let b = Backend {
        port,
        name: name.to_string(),
        conns: Arc::new(AtomicUsize::new(0)),
        hits: Arc::new(AtomicUsize::new(0)),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let (conns, hits, stop, name) = (
        b.conns.clone(),
        b.hits.clone(),
        b.stop.clone(),
        b.name.clone(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok(stream) = stream else { continue };
            conns.fetch_add(1, Ordering::SeqCst);
            let (hits, name) = (hits.clone(), name.clone());
            std::thread::spawn(move || handler(stream, &name, &hits));
        }
    });
    b
}

/// A TCP echo server.
pub fn tcp_echo(name: &str, port: u16) -> Backend {
    spawn_backend(name, port, |mut s, _, hits| {
        let mut buf = vec![0u8; 65_536];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = s.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    hits.fetch_add(n, Ordering::SeqCst);
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// A TCP server that writes its name and closes.
pub fn tcp_named(name: &str, port: u16) -> Backend {
    spawn_backend(name, port, |mut s, name, hits| {
        hits.fetch_add(1, Ordering::SeqCst);
        let _ = s.write_all(name.as_bytes());
        let _ = s.shutdown(Shutdown::Write);
    })
}

/// An HTTP/1.1 server with keep-alive. The body of each answer is
/// `<name> <path>`; headers `x-body-len` (request body bytes read) and
/// `x-seen-xff` (the X-Forwarded-For received). Paths: `/ws` answers 101 and
/// echoes; `/chunked` answers a chunked body; `/big` 64 KiB.
pub fn http(name: &str, port: u16) -> Backend {
    spawn_backend(name, port, serve_http)
}

/// How long [`slow_http`] thinks before each answer.
pub const SLOW_MS: u64 = 50;

/// [`http`], but each answer comes [`SLOW_MS`] after its request.
pub fn slow_http(name: &str, port: u16) -> Backend {
    spawn_backend(name, port, |s, name, hits| {
        serve_http_after(s, name, hits, Duration::from_millis(SLOW_MS));
    })
}

fn serve_http(stream: TcpStream, name: &str, hits: &AtomicUsize) {
    serve_http_after(stream, name, hits, Duration::ZERO);
}

fn serve_http_after(stream: TcpStream, name: &str, hits: &AtomicUsize, think: Duration) {
    let mut w = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        hits.fetch_add(1, Ordering::SeqCst);
        if !think.is_zero() {
            // The server's think time is what the timing tests measure.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(think);
        }
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            let _ = w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        if path == "/early" {
            // Answer before reading the body, then stop reading.
            let _ = w.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
            let mut sink = [0u8; 4096];
            while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        let mut body_len = 0usize;
        if let Some(n) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
            let mut body = vec![0u8; n];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            body_len = n;
        } else if get("transfer-encoding").is_some() {
            loop {
                let mut size = String::new();
                if r.read_line(&mut size).unwrap_or(0) == 0 {
                    return;
                }
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0u8; n + 2];
                if r.read_exact(&mut chunk).is_err() {
                    return;
                }
                if n == 0 {
                    break;
                }
                body_len += n;
            }
        }
        let xff = get("x-forwarded-for").unwrap_or_default();
        if path == "/ws" {
            let _ = w.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            let mut buf = [0u8; 4096];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if w.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let ok = if path == "/chunked" {
            w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        } else {
            let body = if path == "/big" {
                "x".repeat(65_536)
            } else {
                format!("{name} {path}")
            };
            // One write: a body sent apart from its head can wait for the
            // head's (delayed) acknowledgement, 40 ms on Linux.
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Body-Len: {body_len}\r\nX-Seen-XFF: {xff}\r\n\r\n{body}",
                body.len()
            );
            w.write_all(answer.as_bytes())
        };
        if ok.is_err() || get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            return;
        }
    }
}

/// A client connection with a read timeout.
pub fn connect(port: u16) -> TcpStream {
    let s =
        TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect {port}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s
}

/// One parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (content-length, chunked or to close) from `r`.
pub fn read_response(r: &mut BufReader<TcpStream>) -> Option<Response> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let done = line == "\r\n";
        head.push_str(&line);
        if done {
            break;
        }
    }
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut resp = Response {
        status,
        head,
        body: Vec::new(),
    };
    if let Some(n) = resp
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        resp.body = vec![0; n];
        r.read_exact(&mut resp.body).ok()?;
    } else if resp.header("transfer-encoding").is_some() {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..n]);
        }
    } else if !(100..200).contains(&status) && status != 204 && status != 304 {
        r.read_to_end(&mut resp.body).ok()?;
    }
    Some(resp)
}

/// Sends raw bytes on a new connection and reads everything until close.
pub fn raw_exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = connect(port);
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// `GET path` on a new connection; the response.
pub fn get(port: u16, path: &str) -> Option<Response> {
    let mut s = connect(port);
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    read_response(&mut BufReader::new(s))
}

/// Waits until `probe` holds (bounded).
pub fn wait_for(mut probe: impl FnMut() -> bool) -> bool {
    eventually(100, Duration::from_millis(50), || probe().then_some(())).is_some()
}

/// Fresh loopback ports.
pub fn ports<const N: usize>() -> [u16; N] {
    std::array::from_fn(|_| free_port())
}

pub const DEFAULTS: &str =
    "defaults\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n";

/// A server that reads requests and never answers.
pub fn silent(name: &str, port: u16) -> Backend {
    spawn_backend(name, port, |mut s, _, hits| {
        hits.fetch_add(1, Ordering::SeqCst);
        let mut buf = [0u8; 4096];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    })
}
