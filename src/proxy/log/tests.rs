//! The line formats against lines captured from HAProxy 2.6.4 (`log stdout
//! format raw local0` and `log 127.0.0.1:<port> local0`).

use super::line::{Civil, Conns, Entry, connect_line, http_line, request_line, tcp_line};
use super::record::{Timers, Trace, phases, term_state, timers};
use super::{sends_level, write_header};
use crate::compile::program::{LogDestination, LogHeader, LogTarget};
use crate::proxy::ProxyError;
use crate::stats::Phases;

/// 2026-11-25 19:36:13.203 UTC.
const T0: u64 = 1_795_635_373_203;

fn base() -> Entry<'static> {
    Entry {
        client: Some("127.0.0.1:44704".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: T0,
        frontend: "fh",
        conns: Conns {
            process: 1,
            frontend: 1,
            ..Conns::default()
        },
        ..Entry::default()
    }
}

#[test]
fn civil_dates_are_utc_calendar_dates() {
    let c = Civil::from_unix_ms(T0);
    assert_eq!(
        (c.year, c.month, c.day, c.hour, c.min, c.sec, c.ms),
        (2026, 11, 25, 19, 36, 13, 203)
    );
    let leap = Civil::from_unix_ms(951_782_400_000); // 2000-02-29
    assert_eq!((leap.year, leap.month, leap.day), (2000, 2, 29));
    let epoch = Civil::from_unix_ms(0);
    assert_eq!((epoch.year, epoch.month, epoch.day), (1970, 1, 1));
}

#[test]
fn httplog_line_of_a_served_request() {
    let haproxy = r#"127.0.0.1:44704 [25/Nov/2026:19:36:13.203] fh app/s1 0/0/0/0/0 200 120 - - ---- 1/1/0/0/0 0/0 "GET /foo?x=1 HTTP/1.1""#;
    let line = request_line(b"GET", b"/foo?x=1", b"HTTP/1.1");
    let e = Entry {
        backend: Some("app"),
        server: Some("s1"),
        t_request: 0,
        t_queue: 0,
        t_connect: 0,
        t_response: 0,
        t_total: 0,
        status: Some(200),
        bytes: 120,
        term: *b"--",
        request_line: Some(&line),
        ..base()
    };
    assert_eq!(http_line(&e), haproxy);
}

#[test]
fn httplog_line_of_a_denied_request() {
    let haproxy = r#"127.0.0.1:44712 [25/Nov/2026:19:36:13.216] fh fh/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 "GET /deny HTTP/1.1""#;
    let line = request_line(b"GET", b"/deny", b"HTTP/1.1");
    let e = Entry {
        client: Some("127.0.0.1:44712".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: T0 + 13,
        t_queue: -1,
        t_connect: -1,
        t_response: -1,
        status: Some(403),
        bytes: 192,
        term: *b"PR",
        request_line: Some(&line),
        ..base()
    };
    assert_eq!(http_line(&e), haproxy);
}

#[test]
fn httplog_line_of_a_bad_request_and_of_a_down_server() {
    let bad = r#"127.0.0.1:44722 [25/Nov/2026:19:36:17.238] fh fh/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>""#;
    let e = Entry {
        client: Some("127.0.0.1:44722".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: T0 + 4_035,
        t_request: -1,
        t_queue: -1,
        t_connect: -1,
        t_response: -1,
        status: Some(400),
        term: term_state(Some(ProxyError::ClientClosed), &Trace::default(), None),
        ..base()
    };
    assert_eq!(http_line(&e), bad);

    let down = r#"127.0.0.1:49788 [25/Nov/2026:19:36:13.247] fdown down/s1 0/0/-1/-1/3005 503 217 - - SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1""#;
    let line = request_line(b"GET", b"/", b"HTTP/1.1");
    let trace = Trace {
        connect_start_ms: Some(5),
        ..Trace::default()
    };
    let e = Entry {
        client: Some("127.0.0.1:49788".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: T0 + 44,
        frontend: "fdown",
        backend: Some("down"),
        server: Some("s1"),
        t_connect: -1,
        t_response: -1,
        t_total: 3005,
        status: Some(503),
        bytes: 217,
        term: term_state(Some(ProxyError::ConnectFailed), &trace, None),
        conns: Conns {
            process: 1,
            frontend: 1,
            retries: 3,
            ..Conns::default()
        },
        request_line: Some(&line),
        ..base()
    };
    assert_eq!(http_line(&e), down);
}

#[test]
fn tcplog_line() {
    let haproxy =
        "127.0.0.1:55826 [25/Nov/2026:19:36:13.237] ft tapp/s1 1/0/1 117 -- 1/1/0/0/0 0/0";
    let e = Entry {
        client: Some("127.0.0.1:55826".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: T0 + 34,
        frontend: "ft",
        backend: Some("tapp"),
        server: Some("s1"),
        t_queue: 1,
        t_connect: 0,
        t_total: 1,
        bytes: 117,
        term: *b"--",
        ..base()
    };
    assert_eq!(tcp_line(&e), haproxy);
}

#[test]
fn default_line_is_the_connect_line() {
    let haproxy = "Connect from 127.0.0.1:35118 to 127.0.0.1:18082 (fd/HTTP)";
    let line = connect_line(
        "127.0.0.1:35118".parse().unwrap_or_else(|e| panic!("{e}")),
        "127.0.0.1:18082".parse().unwrap_or_else(|e| panic!("{e}")),
        "fd",
        true,
    );
    assert_eq!(line, haproxy);
}

#[test]
fn rfc3164_header_as_sent_to_udp_syslog() {
    // b'<134>Nov 25 19:36:23 haproxy[1142]: Connect from ...'
    let mut buf = String::new();
    write_header(
        &mut buf,
        LogHeader::Rfc3164,
        16 * 8 + 6,
        T0 + 10_000,
        "haproxy",
        1142,
    );
    assert_eq!(buf, "<134>Nov 25 19:36:23 haproxy[1142]: ");
    // Days below 10 are padded with a space.
    buf.clear();
    write_header(
        &mut buf,
        LogHeader::Rfc3164,
        134,
        1_772_323_200_000,
        "lbd",
        7,
    );
    assert_eq!(buf, "<134>Mar  1 00:00:00 lbd[7]: ");
    buf.clear();
    write_header(&mut buf, LogHeader::Short, 134, T0, "lbd", 7);
    assert_eq!(buf, "<134>");
    buf.clear();
    write_header(&mut buf, LogHeader::Raw, 134, T0, "lbd", 7);
    assert_eq!(buf, "");
}

#[test]
fn redispatched_retries_get_a_plus() {
    // HAProxy 2.6, `option redispatch`, `retries 2`, two closed ports.
    let haproxy = r#"127.0.0.1:54198 [25/Nov/2026:20:43:59.734] web dead2/d1 0/0/-1/-1/0 503 217 - - SC-- 1/1/0/0/+2 0/0 "GET /redis HTTP/1.1""#;
    let line = request_line(b"GET", b"/redis", b"HTTP/1.1");
    let e = Entry {
        client: Some("127.0.0.1:54198".parse().unwrap_or_else(|e| panic!("{e}"))),
        start_unix_ms: 1_795_639_439_734,
        frontend: "web",
        backend: Some("dead2"),
        server: Some("d1"),
        t_connect: -1,
        t_response: -1,
        status: Some(503),
        bytes: 217,
        term: *b"SC",
        conns: Conns {
            process: 1,
            frontend: 1,
            retries: 2,
            redispatched: true,
            ..Conns::default()
        },
        request_line: Some(&line),
        ..base()
    };
    assert_eq!(http_line(&e), haproxy);
}

#[test]
fn timers_of_a_served_request_and_of_a_failed_connect() {
    // Head received in 2 ms, assigned 1 ms later, connected 3 ms later,
    // answered 50 ms later, done 4 ms later.
    let served = Trace {
        connect_start_ms: Some(1_002),
        queued_ms: Some(1_003),
        connected_ms: Some(1_006),
        responded_ms: Some(1_056),
        ..Trace::default()
    };
    let want = Timers {
        queue: 1,
        connect: 3,
        response: 50,
        total: 60,
    };
    assert_eq!(timers(&served, 1_000, 2, 1_060), want);
    let p = phases(&served, 1_000, 1_002, 1_060, true);
    assert_eq!(
        p,
        Some(Phases {
            queue_ms: 1,
            connect_ms: 3,
            response_ms: 50,
            total_ms: 60
        })
    );
    // Connection refused three times, 1 s apart: assigned at once, never
    // connected (`0/0/-1/-1/3005`); no sample for the averages.
    let failed = Trace {
        connect_start_ms: Some(1_000),
        queued_ms: Some(1_000),
        retries: 3,
        ..Trace::default()
    };
    let t = timers(&failed, 1_000, 0, 4_005);
    assert_eq!(
        (t.queue, t.connect, t.response, t.total),
        (0, -1, -1, 3_005)
    );
    assert_eq!(phases(&failed, 1_000, 1_000, 4_005, true), None);
    // Connected but no response head: no HTTP sample, a TCP one.
    let no_head = Trace {
        responded_ms: None,
        ..served
    };
    assert_eq!(phases(&no_head, 1_000, 1_002, 1_060, true), None);
    assert_eq!(
        phases(&no_head, 1_000, 1_002, 1_060, false).map(|p| p.response_ms),
        Some(0)
    );
}

#[test]
fn a_kept_alive_request_counts_its_idle_wait_in_the_total_time_only() {
    // Previous request ended at 700; this one's first byte at 1_000, head
    // at 1_100, answered at 1_150, done at 1_152. HAProxy: `TR` 100 and
    // `Ta` 152 in the log, `ttime` 452, `qtime` 0.
    let t = Trace {
        connect_start_ms: Some(1_100),
        queued_ms: Some(1_100),
        connected_ms: Some(1_100),
        responded_ms: Some(1_150),
        ..Trace::default()
    };
    assert_eq!(timers(&t, 1_000, 100, 1_152).total, 152);
    let p = phases(&t, 700, 1_100, 1_152, true).unwrap_or_default();
    assert_eq!((p.queue_ms, p.response_ms, p.total_ms), (0, 50, 452));
}

#[test]
fn tcp_wait_time_counts_from_before_the_start() {
    // Without a request head HAProxy's `Tw` is `t_queue - (-1)`: a session
    // assigned at once logs 1 (`1/0/58`, `1/-1/3005`); the averages take 0.
    let t = Trace {
        connect_start_ms: Some(500),
        queued_ms: Some(500),
        connected_ms: Some(500),
        ..Trace::default()
    };
    assert_eq!(timers(&t, 500, -1, 558).queue, 1);
    assert_eq!(timers(&t, 500, -1, 558).total, 58);
    assert_eq!(
        phases(&t, 500, 500, 558, false).map(|p| p.queue_ms),
        Some(0)
    );
    // Never assigned (no usable server): -1.
    assert_eq!(timers(&Trace::default(), 500, -1, 501).queue, -1);
}

#[test]
fn request_line_escapes_quotes_and_controls() {
    assert_eq!(
        request_line(b"GET", b"/a\"b#c\x01\xff", b"HTTP/1.0"),
        "GET /a#22b#23c#01#FF HTTP/1.0"
    );
}

#[test]
fn termination_states_follow_the_failing_side_and_phase() {
    let none = Trace::default();
    let connected = Trace {
        connect_start_ms: Some(1),
        connected_ms: Some(2),
        ..Trace::default()
    };
    assert_eq!(&term_state(None, &none, Some(200)), b"--");
    assert_eq!(
        &term_state(Some(ProxyError::BadRequest("x")), &none, None),
        b"PR"
    );
    assert_eq!(
        &term_state(Some(ProxyError::RequestTimeout), &none, None),
        b"cR"
    );
    assert_eq!(
        &term_state(Some(ProxyError::ServerTimeout), &connected, None),
        b"sH"
    );
    assert_eq!(
        &term_state(Some(ProxyError::ClientClosed), &connected, Some(200)),
        b"CD"
    );
    assert_eq!(
        &term_state(Some(ProxyError::ServerIo), &connected, Some(200)),
        b"SD"
    );
    assert_eq!(
        &term_state(Some(ProxyError::QueueTimeout), &none, None),
        b"sQ"
    );
}

#[test]
fn max_level_filters_info_messages() {
    let target = |max: Option<&str>| LogTarget {
        destination: LogDestination::Stdout,
        format: LogHeader::Raw,
        facility: "local0".into(),
        max_level: max.map(String::from),
    };
    assert!(sends_level(&target(None), 6));
    assert!(sends_level(&target(Some("info")), 6));
    assert!(sends_level(&target(Some("debug")), 6));
    assert!(!sends_level(&target(Some("notice")), 6));
}

#[test]
fn sink_sends_to_own_and_global_targets_over_udp() {
    use crate::compile::program::{Mode, ProxyId};
    use crate::proxy::testutil::{listen, program};
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    syslog
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("{e}"));
    let target = LogTarget {
        destination: LogDestination::Udp(syslog.local_addr().unwrap_or_else(|e| panic!("{e}"))),
        format: LogHeader::Rfc3164,
        facility: "local1".into(),
        max_level: None,
    };
    let mut own = listen(0, Mode::Http, None, Vec::new());
    own.logs.push(target.clone());
    let mut via_global = listen(1, Mode::Http, None, Vec::new());
    via_global.options.log_global = true;
    let silent = listen(2, Mode::Http, None, Vec::new());
    let mut p = program(vec![own, via_global, silent]);
    p.global.logs.push(LogTarget {
        format: LogHeader::Raw,
        ..target
    });
    let logs = super::Logs::start(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(logs.enabled(ProxyId(0)) && logs.enabled(ProxyId(1)));
    assert!(!logs.enabled(ProxyId(2)));
    logs.send(ProxyId(0), "first".into());
    logs.send(ProxyId(1), "second".into());
    let mut buf = [0u8; 512];
    let n = syslog.recv(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    // local1 (17) * 8 + info (6) = 142.
    assert!(first.starts_with("<142>"), "{first}");
    assert!(first.ends_with("]: first\n"), "{first}");
    let n = syslog.recv(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&buf[..n], b"second\n");
    assert_eq!(logs.dropped(), 0);
}

#[test]
fn without_log_lines_no_logger_starts() {
    use crate::compile::program::{Mode, ProxyId};
    use crate::proxy::testutil::{listen, program};
    let mut px = listen(0, Mode::Http, None, Vec::new());
    px.options.log_global = true;
    px.options.httplog = true;
    let logs = super::Logs::start(&program(vec![px])).unwrap_or_else(|e| panic!("{e}"));
    assert!(!logs.enabled(ProxyId(0)));
    assert!(logs.tx.is_none());
    logs.send(ProxyId(0), "nowhere".into());
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    use crate::compile::program::ProxyId;
    // A logger that never reads: the worker side must not wait.
    let (tx, _rx) = crossbeam::channel::bounded(2);
    let logs = super::Logs {
        enabled: vec![true],
        tx: Some(tx),
        dropped: std::sync::Arc::default(),
    };
    for i in 0..5 {
        logs.send(ProxyId(0), format!("line {i}"));
    }
    assert_eq!(logs.dropped(), 3);
}
