//! `mode http` through the real binary: keep-alive and reuse, strict
//! parsing, timeouts, bodies, tunnels, and error pages.

use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

use crate::servers::{self, DEFAULTS, connect, ports, raw_exchange, read_response, start_lbd};

fn cfg(port: u16, server: u16, extra: &str) -> String {
    format!(
        "global\n    maxconn 200\n{DEFAULTS}    mode http\n{extra}frontend f\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n    server s 127.0.0.1:{server}\n"
    )
}

const BAD_REQUEST: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

#[test]
fn keep_alive_reuses_one_server_connection() {
    let [p, s] = ports::<2>();
    let back = servers::http("s", s);
    let _lbd = start_lbd("reuse", &cfg(p, s, ""), p);
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    for i in 0..50 {
        let req = format!("GET /r{i} HTTP/1.1\r\nHost: t\r\n\r\n");
        w.write_all(req.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response {i}"));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), format!("s /r{i}"));
    }
    assert_eq!(back.hits(), 50);
    assert_eq!(
        back.conns(),
        1,
        "the server saw {} connections",
        back.conns()
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("pipe", &cfg(p, s, ""), p);
    let mut c = connect(p);
    c.write_all(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    for i in 1..=3 {
        let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response {i}"));
        assert_eq!(resp.text(), format!("s /{i}"));
    }
}

#[test]
fn malformed_requests_get_400_and_the_proxy_keeps_serving() {
    let [p, s] = ports::<2>();
    let back = servers::http("s", s);
    let _lbd = start_lbd("bad", &cfg(p, s, ""), p);
    let cases: &[&[u8]] = &[
        b"GET /a b c HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo st: t\r\n\r\n",
        b"GET\x01 / HTTP/1.1\r\nHost: t\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for raw in cases {
        let got = raw_exchange(p, raw);
        if raw.ends_with(b"zz\r\n") {
            // The head was valid and forwarded; the body is cut: no 200.
            assert!(
                !got.starts_with(b"HTTP/1.1 200"),
                "{:?}",
                String::from_utf8_lossy(&got)
            );
            continue;
        }
        assert_eq!(got, BAD_REQUEST, "for {:?}", String::from_utf8_lossy(raw));
        let ok = servers::get(p, "/still").unwrap_or_else(|| panic!("proxy stopped serving"));
        assert_eq!(ok.status, 200);
    }
    // Nothing ambiguous reached the server: only the /still probes and the
    // valid-headed chunked request did.
    // (The server may still be reading the last head when we get here.)
    assert!(servers::wait_for(|| back.hits() == cases.len()));
    assert_eq!(back.hits(), cases.len());
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(20_000));
    assert!(raw_exchange(p, long_uri.as_bytes()).starts_with(b"HTTP/1.1 414 "));
    let big_headers = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert!(raw_exchange(p, big_headers.as_bytes()).starts_with(b"HTTP/1.1 431 "));
    let gzip = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n";
    assert!(raw_exchange(p, gzip).starts_with(b"HTTP/1.1 501 "));
}

#[test]
fn slowloris_is_cut_by_timeout_http_request() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("slow", &cfg(p, s, "    timeout http-request 300ms\n"), p);
    let mut c = connect(p);
    let started = Instant::now();
    c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    // Keep dribbling: the deadline is for the whole head, not per byte.
    for _ in 0..3 {
        c.set_read_timeout(Some(Duration::from_millis(50))).ok();
        let mut probe = [0u8; 1];
        if c.read(&mut probe).is_ok() {
            break;
        }
        if c.write_all(b"X-a: b\r\n").is_err() {
            break;
        }
    }
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert!(
        got.starts_with(b"HTTP/1.1 408 Request Time-out\r\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bodies_stream_both_ways_with_reframing() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("body", &cfg(p, s, ""), p);
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    w.write_all(b"POST /cl HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.header("x-body-len").as_deref(), Some("11"));
    w.write_all(b"POST /ch HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: 1\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.header("x-body-len").as_deref(), Some("7"));
    w.write_all(b"GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.text(), "hello world");
    assert_eq!(resp.header("transfer-encoding").as_deref(), Some("chunked"));
    w.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.body.len(), 65_536);
    // Expect: 100-continue: the interim answer comes before the body is sent.
    w.write_all(
        b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let interim = read_response(&mut r).unwrap_or_else(|| panic!("no 100"));
    assert_eq!(interim.status, 100);
    w.write_all(b"body").unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no final response"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-body-len").as_deref(), Some("4"));
}

#[test]
fn websocket_upgrade_becomes_a_tunnel() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("ws", &cfg(p, s, ""), p);
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    w.write_all(
        b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no 101"));
    assert_eq!(resp.status, 101);
    assert_eq!(resp.header("upgrade").as_deref(), Some("websocket"));
    for msg in [&b"ping"[..], b"\x81\x05hello", b"bytes after upgrade"] {
        w.write_all(msg).unwrap_or_else(|e| panic!("{e}"));
        let mut back = vec![0u8; msg.len()];
        r.read_exact(&mut back).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, msg);
    }
}

#[test]
fn forwardfor_and_hop_by_hop() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("xff", &cfg(p, s, "    option forwardfor\n"), p);
    let resp = servers::get(p, "/").unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.header("x-seen-xff").as_deref(), Some("127.0.0.1"));
}

#[test]
fn errorfile_backend_without_servers() {
    let [p] = ports::<1>();
    let dir = crate::harness::Scratch::new("errfile-src");
    let page = dir.write(
        "503.http",
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nEase up.\n",
    );
    let cfg = format!(
        "{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{p}\n    default_backend ease\nbackend ease\n    errorfile 503 {}\n",
        page.display()
    );
    let _lbd = start_lbd("errfile", &cfg, p);
    let got = raw_exchange(p, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nEase up.\n"
    );
}

#[test]
fn server_close_and_httpclose_modes() {
    // http-server-close: the client keeps its connection, the server sees
    // one connection per request.
    let [p, s] = ports::<2>();
    let back = servers::http("s", s);
    let _lbd = start_lbd("sclose", &cfg(p, s, "    option http-server-close\n"), p);
    let base = back.conns();
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    for _ in 0..5 {
        w.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("connection"), None);
    }
    assert!(
        servers::wait_for(|| back.conns() - base == 5),
        "{}",
        back.conns() - base
    );

    // httpclose: both sides close after one response.
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("hclose", &cfg(p, s, "    option httpclose\n"), p);
    let mut c = connect(p);
    c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut all = Vec::new();
    c.read_to_end(&mut all).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("connection: close\r\n"), "{text}");
}

#[test]
fn server_failures_map_to_502_and_504() {
    // An echo server answers the request line back: not a response.
    let [p, s] = ports::<2>();
    let _echo = servers::tcp_echo("echo", s);
    let _lbd = start_lbd("502", &cfg(p, s, ""), p);
    let got = raw_exchange(p, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"
    );

    let [p, s] = ports::<2>();
    let _silent = servers::silent("silent", s);
    let extra = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 300ms\n";
    let _lbd = start_lbd("504", &cfg(p, s, extra), p);
    let started = Instant::now();
    let got = raw_exchange(p, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(
        got.starts_with(b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_full_server_queues_requests_then_answers_503() {
    let [p, s] = ports::<2>();
    let _silent = servers::silent("silent", s);
    let cfg = format!(
        "{DEFAULTS}    timeout queue 300ms\n    mode http\nfrontend f\n    bind 127.0.0.1:{p}\n    default_backend app\nbackend app\n    server s 127.0.0.1:{s} maxconn 1\n"
    );
    let _lbd = start_lbd("httpqueue", &cfg, p);
    // The first request takes the only slot and waits for its answer.
    let mut first = connect(p);
    first
        .write_all(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(servers::wait_for(|| _silent.hits() == 1));
    let started = Instant::now();
    let got = raw_exchange(p, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(
        got.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_early_answer_is_relayed_without_waiting_for_the_body() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("early", &cfg(p, s, ""), p);
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    w.write_all(b"POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\npartial")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.status, 413);
    assert_eq!(resp.header("connection").as_deref(), Some("close"));
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn idle_keep_alive_connections_close_silently() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let _lbd = start_lbd("kato", &cfg(p, s, "    timeout http-keep-alive 200ms\n"), p);
    let c = connect(p);
    let mut w = c.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut r = BufReader::new(c);
    w.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.status, 200);
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    let idle = started.elapsed();
    assert!(
        idle >= Duration::from_millis(150) && idle < Duration::from_secs(3),
        "{idle:?}"
    );
}

#[test]
fn accept_proxy_takes_the_client_address_from_the_header() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let cfg = format!(
        "{DEFAULTS}    mode http\n    option forwardfor\nfrontend f\n    bind 127.0.0.1:{p} accept-proxy\n    default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n"
    );
    let _lbd = start_lbd("acceptproxy", &cfg, p);
    let mut c = connect(p);
    let req = format!(
        "PROXY TCP4 192.0.2.9 127.0.0.1 4444 {p}\r\nGET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    c.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = read_response(&mut BufReader::new(c)).unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.text(), "s /a");
    assert_eq!(resp.header("x-seen-xff").as_deref(), Some("192.0.2.9"));
    // Without the header the connection is refused.
    let got = raw_exchange(p, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
}

/// Accepts one connection on `port`, answers one request with `answer`,
/// and returns the request head as received.
fn capture_one_request(port: u16, answer: &'static [u8]) -> std::thread::JoinHandle<String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("bind {port}: {e}"));
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return String::new();
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && matches!(s.read(&mut byte), Ok(1)) {
            head.push(byte[0]);
        }
        let _ = s.write_all(answer);
        String::from_utf8_lossy(&head).into_owned()
    })
}

#[test]
fn header_names_added_by_rules_go_out_lowercased_as_haproxy_sends_them() {
    let [p, s] = ports::<2>();
    let seen = capture_one_request(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Up: A\r\n\r\n",
    );
    let cfg = format!(
        "{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{p}\n    http-request set-header X-Foo Bar\n    http-request add-header X-Added yes\n    http-response set-header X-Resp-Hdr Q\n    default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n"
    );
    let _lbd = start_lbd("lowercase", &cfg, p);
    let answer = raw_exchange(
        p,
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Mixed-Case: v\r\nConnection: close\r\n\r\n",
    );
    let answer = String::from_utf8_lossy(&answer);
    let head = seen.join().unwrap_or_default();
    for line in ["x-mixed-case: v\r\n", "x-foo: Bar\r\n", "x-added: yes\r\n"] {
        assert!(head.contains(line), "{line:?} not in {head:?}");
    }
    assert!(
        answer.contains("x-up: A\r\nx-resp-hdr: Q\r\n"),
        "{answer:?}"
    );
}
