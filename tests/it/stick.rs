//! Rules and stick tables end to end: the real binary, real backends, real
//! clients from several loopback source addresses.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::servers::{self, DEFAULTS, ports, read_response, start_lbd};

/// A connection from `source` (any 127.0.0.0/8 address) to `port`.
fn connect_from(source: [u8; 4], port: u16) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("create a socket");
    let local: SocketAddr = (source, 0).into();
    socket.bind(&local.into()).expect("bind the source address");
    let remote: SocketAddr = ([127, 0, 0, 1], port).into();
    socket.connect(&remote.into()).expect("connect to lbd");
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    stream
}

/// One request on a new connection from `source`; the raw answer, read to
/// the end (empty when lbd closed without answering).
fn request_from(source: [u8; 4], port: u16, host: &str, path: &str) -> Vec<u8> {
    let mut s = connect_from(source, port);
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send the request");
    let mut out = Vec::new();
    // A reset after a reject is an empty answer too.
    let _read = s.read_to_end(&mut out);
    out
}

fn status(answer: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(answer.get(..12)?).ok()?;
    text.get(9..12)?.parse().ok()
}

const EASE_UP: &str = "HTTP/1.0 503 Service Unavailable\nCache-Control: no-cache\nConnection: close\nContent-Type: text/plain\n\nEase up: too many connections from your address.\n";

/// The shipped abuser setup (examples/lb.cfg) on free ports.
fn abuser_config(fe: u16, s1: u16, s2: u16) -> String {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lb.cfg"))
        .expect("read examples/lb.cfg");
    example
        .replace("127.0.0.1:21080", &format!("127.0.0.1:{fe}"))
        .replace("127.0.0.1:21081", &format!("127.0.0.1:{s1}"))
        .replace("127.0.0.1:21082", &format!("127.0.0.1:{s2}"))
}

#[test]
fn issue_4_abusers_are_rejected_then_sent_to_the_error_backend() {
    let [fe, s1, s2] = ports();
    let _test1 = servers::http("test1", s1);
    let _test2 = servers::http("test2", s2);
    // The errorfile is read at start, next to the config (default-path config).
    let dir = crate::harness::Scratch::new("abuser");
    dir.write("errors/ease-up-y0.http", EASE_UP);
    let cfg = dir.write("lb.cfg", &abuser_config(fe, s1, s2));
    let _lbd = crate::harness::Proc::spawn(
        "lbd",
        std::process::Command::new(crate::harness::lbd_bin())
            .arg("-f")
            .arg(&cfg)
            .current_dir(&dir.path),
    );
    assert!(crate::harness::wait_listening(fe));

    let answers: Vec<Vec<u8>> = (0..5)
        .map(|_| request_from([127, 0, 0, 1], fe, "test1.com", "/"))
        .collect();
    let statuses: Vec<Option<u16>> = answers.iter().map(|a| status(a)).collect();
    assert_eq!(statuses, [Some(200), Some(200), Some(200), None, Some(503)]);
    assert!(
        answers[3].is_empty(),
        "the 4th connection is closed without an answer"
    );
    assert_eq!(
        answers[4],
        b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nEase up: too many connections from your address.\n"
    );
    // The whitelisted source is never flagged.
    for _ in 0..5 {
        assert_eq!(
            status(&request_from([127, 0, 0, 2], fe, "test1.com", "/")),
            Some(200)
        );
    }
    // Another source is not affected by the first one's flag.
    assert_eq!(
        status(&request_from([127, 0, 0, 3], fe, "www.test2.com", "/")),
        Some(200)
    );

    // What the tables say, through the runtime API with real socat.
    if !crate::harness::have("socat") {
        eprintln!("skipped the show table checks: socat is not installed");
        return;
    }
    let sock = dir.path.join("admin.sock");
    let http = crate::api::socat(&sock, "show table http\n");
    assert!(
        http.starts_with("# table: http, type: ip, size:204800, used:3\n"),
        "{http}"
    );
    let line = |table: &str, key: &str| {
        table
            .lines()
            .find(|l| l.contains(&format!(": key={key} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line(&http, "127.0.0.1").ends_with(" gpc0=1"), "{http}");
    assert!(line(&http, "127.0.0.2").ends_with(" gpc0=0"), "{http}");
    let test1 = crate::api::socat(&sock, "show table test1\n");
    assert!(
        line(&test1, "127.0.0.1").contains(" conn_rate(100000)=4 bytes_out_rate(60000)="),
        "{test1}"
    );
    assert!(
        line(&test1, "127.0.0.2").contains(" conn_rate(100000)=5 "),
        "{test1}"
    );
}

#[test]
fn http_req_rate_limits_with_429() {
    let [fe, be] = ports();
    let _backend = servers::http("app", be);
    let cfg = format!(
        "{DEFAULTS}\nfrontend www\n    mode http\n    bind 127.0.0.1:{fe}\n    stick-table type ip size 1k expire 10s store http_req_rate(10s)\n    http-request track-sc0 src\n    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 5 }}\n    default_backend app\n\nbackend app\n    mode http\n    server s1 127.0.0.1:{be}\n"
    );
    let _lbd = start_lbd("ratelimit", &cfg, fe);
    // Keep-alive: every request on one connection is counted.
    let mut s = connect_from([127, 0, 0, 5], fe);
    let mut r = BufReader::new(s.try_clone().expect("clone the stream"));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("send");
        statuses.push(read_response(&mut r).map(|resp| resp.status));
    }
    assert_eq!(statuses[..5], [Some(200); 5]);
    assert_eq!(statuses[5..], [Some(429); 3]);
    // Another client has its own budget.
    assert_eq!(
        status(&request_from([127, 0, 0, 6], fe, "t", "/")),
        Some(200)
    );
}

#[test]
fn a_table_is_shared_by_two_frontends() {
    let [fe1, fe2, be] = ports();
    let _backend = servers::http("app", be);
    let cfg = format!(
        "{DEFAULTS}\nbackend shared\n    stick-table type ip size 1k expire 30s store conn_cnt\n\nfrontend one\n    mode http\n    bind 127.0.0.1:{fe1}\n    tcp-request connection track-sc0 src table shared\n    tcp-request connection reject if {{ sc0_conn_cnt gt 3 }}\n    default_backend app\n\nfrontend two\n    mode http\n    bind 127.0.0.1:{fe2}\n    tcp-request connection track-sc0 src table shared\n    tcp-request connection reject if {{ sc0_conn_cnt gt 3 }}\n    default_backend app\n\nbackend app\n    mode http\n    server s1 127.0.0.1:{be}\n"
    );
    let _lbd = start_lbd("shared-table", &cfg, fe1);
    assert!(crate::harness::wait_listening(fe2));
    let src = [127, 0, 0, 7];
    let mut statuses = Vec::new();
    for port in [fe1, fe2, fe1, fe2, fe1] {
        statuses.push(status(&request_from(src, port, "t", "/")));
    }
    // Connections 1-3 (over both frontends) pass; the 4th and 5th are refused.
    assert_eq!(statuses, [Some(200), Some(200), Some(200), None, None]);
}

#[test]
fn entries_expire_and_the_flag_goes_with_them() {
    let [fe, be] = ports();
    let _backend = servers::http("app", be);
    let cfg = format!(
        "{DEFAULTS}\nfrontend www\n    mode http\n    bind 127.0.0.1:{fe}\n    stick-table type ip size 1k expire 1s store gpc0\n    http-request track-sc0 src\n    http-request sc-inc-gpc0(0) if {{ path /flag }}\n    http-request deny if {{ sc0_get_gpc0 gt 0 }}\n    default_backend app\n\nbackend app\n    mode http\n    server s1 127.0.0.1:{be}\n"
    );
    let _lbd = start_lbd("expiry", &cfg, fe);
    let src = [127, 0, 0, 8];
    assert_eq!(status(&request_from(src, fe, "t", "/")), Some(200));
    assert_eq!(status(&request_from(src, fe, "t", "/flag")), Some(403));
    assert_eq!(status(&request_from(src, fe, "t", "/")), Some(403));
    // Once the entry has not been touched for its 1 s expiry it is gone,
    // flag included. Any request from `src` would re-arm it, so the test
    // waits without asking.
    #[allow(clippy::disallowed_methods)]
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(status(&request_from(src, fe, "t", "/")), Some(200));
}

#[test]
fn a_full_table_evicts_the_least_recently_used_entry() {
    let [fe, be] = ports();
    let _backend = servers::http("app", be);
    let sock = std::env::temp_dir().join(format!("lbd-evict-{fe}.sock"));
    let cfg = format!(
        "global\n    stats socket {}\n{DEFAULTS}\nfrontend www\n    mode http\n    bind 127.0.0.1:{fe}\n    stick-table type ip size 2 expire 1m store gpc0\n    http-request track-sc0 src\n    http-request sc-inc-gpc0(0) if {{ path /flag }}\n    http-request deny if {{ sc0_get_gpc0 gt 0 }}\n    default_backend app\n\nbackend app\n    mode http\n    server s1 127.0.0.1:{be}\n",
        sock.display()
    );
    let _lbd = start_lbd("eviction", &cfg, fe);
    let (a, b, c) = ([127, 0, 0, 10], [127, 0, 0, 11], [127, 0, 0, 12]);
    assert_eq!(status(&request_from(a, fe, "t", "/flag")), Some(403));
    assert_eq!(status(&request_from(a, fe, "t", "/")), Some(403));
    // An entry a live session still tracks is never evicted: wait until
    // lbd has closed the sessions (HAProxy's "use=0"). Waiting between a
    // and b also keeps their last uses in different milliseconds, the
    // resolution of the eviction order.
    let all_released = |n: usize| {
        servers::wait_for(|| {
            let table = crate::api::socat(&sock, "show table www\n");
            table.matches(" use=0 ").count() == n
        })
    };
    assert!(all_released(1), "a's session never ended");
    assert_eq!(status(&request_from(b, fe, "t", "/")), Some(200));
    assert!(all_released(2), "b's session never ended");
    // A third key pushes out the least recently used one: a's entry.
    assert_eq!(status(&request_from(c, fe, "t", "/")), Some(200));
    assert_eq!(
        status(&request_from(a, fe, "t", "/")),
        Some(200),
        "a's flag was evicted:\n{}",
        crate::api::socat(&sock, "show table www\n")
    );
}
