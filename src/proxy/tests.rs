//! `serve` end to end in-process: a Program built in code, real loopback
//! sockets, live counters read back, and both ways of stopping.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::compile::program::{Balance, Mode};
use crate::stats::Counters;

/// A one-shot HTTP backend answering `n` requests (one per connection).
fn backend(n: usize) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        for s in l.incoming().take(n) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got.extend_from_slice(&buf[..k]),
                }
            }
            let r =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            assert!(r.is_ok());
        }
    });
    addr
}

fn request(addr: SocketAddr) -> Vec<u8> {
    let mut c = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let sent = c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(sent.is_ok());
    let mut out = Vec::new();
    let read = c.read_to_end(&mut out);
    assert!(read.is_ok());
    out
}

#[test]
fn serve_counts_traffic_and_stops() {
    let be_addr = backend(3);
    let bind = testutil::free_addr();
    let mut p = testutil::listen(
        0,
        Mode::Http,
        Some(bind),
        testutil::servers(&[(be_addr, 1)]),
    );
    p.balance = Balance::RoundRobin;
    let program = Arc::new(testutil::program(vec![p]));
    let server = serve(Arc::clone(&program), ServeOptions { workers: Some(2) });
    let Ok(server) = server else {
        panic!("serve failed")
    };
    assert_eq!(server.local_addrs(), &[(ProxyId(0), bind)]);
    // A second serve on the same address does not fail silently: SO_REUSEPORT
    // lets lbd share with itself, but a foreign socket is refused.
    for _ in 0..3 {
        let out = request(bind);
        assert!(
            out.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
        assert!(out.ends_with(b"ok"));
    }
    let px = program.proxy(ProxyId(0));
    let fe = &px.frontend_counters;
    let srv = &px.servers[0].state;
    assert_eq!(Counters::read(&fe.sessions_total), 3);
    assert_eq!(Counters::read(&fe.http_requests), 3);
    assert_eq!(Counters::read(&fe.http_responses[1]), 3);
    assert_eq!(Counters::read(&srv.counters.lb_total), 3);
    assert!(Counters::read(&fe.bytes_out) >= 3 * 40);
    assert!(Counters::read(&fe.bytes_in) >= 3 * 30);
    assert_eq!(srv.cur_conns.load(Ordering::Relaxed), 0);
    // Graceful stop: listeners close, workers end.
    server.stop_gracefully();
    server.wait();
    assert!(
        TcpStream::connect(bind).is_err(),
        "still listening after stop"
    );
}

#[test]
fn a_port_in_use_fails_serve_with_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = taken.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let p = testutil::listen(0, Mode::Tcp, Some(addr), Vec::new());
    let err = serve(
        Arc::new(testutil::program(vec![p])),
        ServeOptions::default(),
    )
    .err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains(&addr.to_string()) && text.contains("cannot bind"),
        "{text}"
    );
}

#[test]
fn stop_now_ends_open_sessions() {
    let bind = testutil::free_addr();
    // A tcp listen whose server accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let silent_addr = silent.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let p = testutil::listen(
        0,
        Mode::Tcp,
        Some(bind),
        testutil::servers(&[(silent_addr, 1)]),
    );
    let server = serve(
        Arc::new(testutil::program(vec![p])),
        ServeOptions { workers: Some(1) },
    );
    let Ok(server) = server else {
        panic!("serve failed")
    };
    let mut c = TcpStream::connect(bind).unwrap_or_else(|e| panic!("{e}"));
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let (_held, _) = silent.accept().unwrap_or_else(|e| panic!("{e}"));
    server.stop_now();
    server.wait();
    let mut buf = [0u8; 1];
    assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
}
