//! Splicing through the real binary: `mode tcp` tunnels carry 64 MiB
//! intact both ways with a half-close, whether they splice (the default),
//! copy (`nosplice`), or do one of each (`maxpipes 1`); large HTTP bodies
//! splice both ways on a kept-alive connection; and `show info` reports
//! the pipes in use.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::api::socat;
use crate::servers::{self, DEFAULTS, connect, ports, start_lbd};

const TOTAL: usize = 64 << 20;

/// A tunnel to an echo server with `global` lines added.
fn tunnel_cfg(port: u16, server: u16, global: &str) -> String {
    format!(
        "global\n{global}{DEFAULTS}    mode tcp\nlisten l\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{server}\n"
    )
}

/// The byte stream the tests send: a linear congruential sequence.
struct Pattern {
    x: u32,
    sum: u64,
}

impl Pattern {
    fn new() -> Pattern {
        Pattern { x: 1, sum: 0 }
    }

    fn fill(&mut self, chunk: &mut [u8]) {
        for b in chunk.iter_mut() {
            self.x = self.x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *b = (self.x >> 24) as u8;
            self.sum = fold(self.sum, *b);
        }
    }
}

fn fold(sum: u64, b: u8) -> u64 {
    sum.wrapping_mul(31).wrapping_add(u64::from(b))
}

/// Sends 64 MiB through `port` to an echo server, closes its sending side,
/// and checks that every byte comes back in order before the echo's FIN.
fn carry_64_mib(port: u16) {
    let c = connect(port);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let writer = std::thread::spawn(move || {
        let mut chunk = vec![0u8; 65_536];
        let mut pattern = Pattern::new();
        for _ in 0..TOTAL / chunk.len() {
            pattern.fill(&mut chunk);
            w.write_all(&chunk).unwrap_or_else(|e| panic!("{e}"));
        }
        // Half-close: the echo still comes back after our FIN.
        w.shutdown(std::net::Shutdown::Write)
            .unwrap_or_else(|e| panic!("{e}"));
        pattern.sum
    });
    let mut r = c;
    let mut buf = vec![0u8; 65_536];
    let (mut got, mut sum) = (0usize, 0u64);
    loop {
        let n = r
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("read after {got}: {e}"));
        if n == 0 {
            break;
        }
        sum = buf[..n].iter().fold(sum, |s, &b| fold(s, b));
        got += n;
    }
    let sent = writer.join().unwrap_or_else(|_| panic!("writer panicked"));
    assert_eq!(got, TOTAL);
    assert_eq!(sum, sent);
}

#[test]
fn spliced_tunnel_carries_64_mib_intact_with_half_close() {
    let [p, s] = ports::<2>();
    let _back = servers::tcp_echo("s", s);
    let _lbd = start_lbd("bulk", &tunnel_cfg(p, s, ""), p);
    carry_64_mib(p);
}

#[test]
fn copied_tunnel_carries_64_mib_with_nosplice() {
    let [p, s] = ports::<2>();
    let _back = servers::tcp_echo("s", s);
    let _lbd = start_lbd("nosplice", &tunnel_cfg(p, s, "    nosplice\n"), p);
    carry_64_mib(p);
}

#[test]
fn one_pipe_splices_one_direction_and_copies_the_other() {
    let [p, s] = ports::<2>();
    let _back = servers::tcp_echo("s", s);
    let _lbd = start_lbd("maxpipes1", &tunnel_cfg(p, s, "    maxpipes 1\n"), p);
    carry_64_mib(p);
}

/// `Maxpipes`, `PipesUsed` and `PipesFree` from `show info`.
fn pipes(sock: &std::path::Path) -> (u64, u64, u64) {
    let info = socat(sock, "show info\n");
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{info}"))
    };
    (field("Maxpipes"), field("PipesUsed"), field("PipesFree"))
}

fn open_tunnel(port: u16) -> TcpStream {
    let mut c = connect(port);
    c.write_all(b"ping").unwrap_or_else(|e| panic!("{e}"));
    let mut echo = [0u8; 4];
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("{e}"));
    c.read_exact(&mut echo).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&echo, b"ping");
    c
}

#[test]
fn show_info_counts_the_pipes_of_open_tunnels() {
    let [p, s] = ports::<2>();
    let _back = servers::tcp_echo("s", s);
    let sock = std::env::temp_dir().join(format!("lbd-pipes-{p}.sock"));
    let global = format!(
        "    maxconn 400\n    nbthread 1\n    stats socket {} level admin\n",
        sock.display()
    );
    let _lbd = start_lbd("pipes", &tunnel_cfg(p, s, &global), p);
    // The readiness probe's connection may use (and give back) some: wait
    // until its tunnel has ended.
    assert!(
        servers::wait_for(|| pipes(&sock).1 == 0),
        "{:?}",
        pipes(&sock)
    );
    let (max, _, idle) = pipes(&sock);
    assert_eq!(max, 100, "a quarter of maxconn");
    assert!(idle <= 2, "{idle}");
    let a = open_tunnel(p);
    let b = open_tunnel(p);
    assert!(
        servers::wait_for(|| pipes(&sock).1 == 4),
        "two per open tunnel: {:?}",
        pipes(&sock)
    );
    drop(a);
    drop(b);
    // Closed tunnels give their empty pipes back to the worker's pool.
    assert!(
        servers::wait_for(|| {
            let (_, used, idle) = pipes(&sock);
            used == 0 && idle >= 4
        }),
        "{:?}",
        pipes(&sock)
    );
    let pooled = pipes(&sock).2;
    // A new tunnel takes them from the pool instead of making more.
    let _c = open_tunnel(p);
    assert!(
        servers::wait_for(|| pipes(&sock) == (100, 2, pooled - 2)),
        "{:?} with {pooled} pooled",
        pipes(&sock)
    );
}

#[test]
fn nosplice_tunnels_use_no_pipe() {
    let [p, s] = ports::<2>();
    let _back = servers::tcp_echo("s", s);
    let sock = std::env::temp_dir().join(format!("lbd-nopipes-{p}.sock"));
    let global = format!(
        "    nosplice\n    maxpipes 8\n    stats socket {} level admin\n",
        sock.display()
    );
    let _lbd = start_lbd("nopipes", &tunnel_cfg(p, s, &global), p);
    let _a = open_tunnel(p);
    assert_eq!(pipes(&sock), (8, 0, 0));
}

/// An HTTP server for one connection: each request's body (Content-Length)
/// is read and summed, and the answer carries `size` pattern bytes with
/// the upload's sum in `x-sum`.
fn pattern_server(port: u16, size: usize, requests: usize) -> std::thread::JoinHandle<()> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("bind {port}: {e}"));
    std::thread::spawn(move || {
        let Ok((s, _)) = listener.accept() else {
            return;
        };
        let mut w = s.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let mut r = std::io::BufReader::new(s);
        for _ in 0..requests {
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            r.read_exact(&mut body).unwrap_or_else(|e| panic!("{e}"));
            let sum = body.iter().fold(0u64, |s, &b| fold(s, b));
            let mut answer = vec![0u8; size];
            Pattern::new().fill(&mut answer);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nX-Sum: {sum}\r\n\r\n");
            w.write_all(head.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            w.write_all(&answer).unwrap_or_else(|e| panic!("{e}"));
        }
    })
}

#[test]
fn large_http_bodies_splice_both_ways_intact_on_a_kept_alive_connection() {
    let [p, s] = ports::<2>();
    const SIZE: usize = 3 << 20;
    let server = pattern_server(s, SIZE, 2);
    let sock = std::env::temp_dir().join(format!("lbd-body-pipes-{p}.sock"));
    let cfg = format!(
        "global\n    nbthread 1\n    stats socket {} level admin\n{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{p}\n    default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n",
        sock.display()
    );
    let _lbd = start_lbd("bodies", &cfg, p);
    let mut c = connect(p);
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut upload = vec![0u8; SIZE];
    let mut pattern = Pattern::new();
    pattern.fill(&mut upload);
    let mut r = std::io::BufReader::new(c.try_clone().unwrap_or_else(|e| panic!("{e}")));
    for _ in 0..2 {
        let head = format!("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: {SIZE}\r\n\r\n");
        c.write_all(head.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        c.write_all(&upload).unwrap_or_else(|e| panic!("{e}"));
        let resp = servers::read_response(&mut r).unwrap_or_else(|| panic!("no response"));
        assert_eq!(resp.status, 200);
        let mut want = vec![0u8; SIZE];
        Pattern::new().fill(&mut want);
        assert_eq!(resp.body.len(), SIZE);
        assert!(resp.body == want, "response body differs");
        assert_eq!(resp.header("x-sum"), Some(pattern.sum.to_string()));
    }
    drop(r);
    drop(c);
    server.join().unwrap_or_else(|_| panic!("server panicked"));
    // Both bodies went through pipes, given back once done.
    let (_, used, free) = pipes(&sock);
    assert_eq!(used, 0);
    assert!(free >= 1, "no pipe was used: {free}");
}
