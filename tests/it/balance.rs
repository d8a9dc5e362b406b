//! Server selection through the real binary: distribution per algorithm,
//! failover, health transitions, backups and queueing.

use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

use crate::servers::{self, DEFAULTS, get, ports, read_response, start_lbd, wait_for};

fn http_cfg(port: u16, backend_lines: &str) -> String {
    format!(
        "global\n    maxconn 200\n{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n{backend_lines}"
    )
}

/// Sends `n` requests on one keep-alive connection; returns the backend
/// name of each answer.
fn names_keep_alive(port: u16, n: usize, path: &str) -> Vec<String> {
    let s = servers::connect(port);
    let mut w = s.try_clone().unwrap_or_else(|e| panic!("clone: {e}"));
    let mut r = BufReader::new(s);
    (0..n)
        .map(|_| {
            let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
            w.write_all(req.as_bytes())
                .unwrap_or_else(|e| panic!("write: {e}"));
            let resp = read_response(&mut r).unwrap_or_else(|| panic!("no response"));
            resp.text().split(' ').next().unwrap_or("").to_string()
        })
        .collect()
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[test]
fn roundrobin_splits_evenly_and_interleaves_weights() {
    let [p, a, b, c] = ports::<4>();
    let (_a, _b, _c) = (
        servers::http("a", a),
        servers::http("b", b),
        servers::http("c", c),
    );
    let lines = format!(
        "    balance roundrobin\n    server a 127.0.0.1:{a}\n    server b 127.0.0.1:{b}\n    server c 127.0.0.1:{c}\n"
    );
    let _lbd = start_lbd("rr", &http_cfg(p, &lines), p);
    let names = names_keep_alive(p, 300, "/");
    assert_eq!(
        (count(&names, "a"), count(&names, "b"), count(&names, "c")),
        (100, 100, 100)
    );

    let [p, a, b, c] = ports::<4>();
    let (_a, _b, _c) = (
        servers::http("a", a),
        servers::http("b", b),
        servers::http("c", c),
    );
    let lines = format!(
        "    balance roundrobin\n    server a 127.0.0.1:{a} weight 10\n    server b 127.0.0.1:{b} weight 20\n    server c 127.0.0.1:{c} weight 30\n"
    );
    let _lbd = start_lbd("rrw", &http_cfg(p, &lines), p);
    let names = names_keep_alive(p, 60, "/");
    assert_eq!(
        (count(&names, "a"), count(&names, "b"), count(&names, "c")),
        (10, 20, 30)
    );
    assert!(
        names.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])),
        "not interleaved: {names:?}"
    );
}

#[test]
fn tcp_roundrobin_spreads_connections_across_workers() {
    let [p, a, b, c] = ports::<4>();
    let backs = [
        servers::tcp_named("a", a),
        servers::tcp_named("b", b),
        servers::tcp_named("c", c),
    ];
    let cfg = format!(
        "{DEFAULTS}    mode tcp\nlisten l\n    bind 127.0.0.1:{p}\n    server a 127.0.0.1:{a}\n    server b 127.0.0.1:{b}\n    server c 127.0.0.1:{c}\n"
    );
    let _lbd = start_lbd("tcprr", &cfg, p);
    for _ in 0..30 {
        let mut s = servers::connect(p);
        let mut name = String::new();
        s.read_to_string(&mut name)
            .unwrap_or_else(|e| panic!("read: {e}"));
        assert!(["a", "b", "c"].contains(&name.as_str()), "{name}");
    }
    // The readiness probe of start_lbd was proxied too (to the first server).
    let hits: Vec<_> = backs.iter().map(|b| b.hits()).collect();
    let (min, max) = (hits.iter().min(), hits.iter().max());
    assert!(max.zip(min).is_some_and(|(x, n)| x - n <= 1), "{hits:?}");
    assert!(hits.iter().sum::<usize>() >= 30, "{hits:?}");
}

#[test]
fn hash_algorithms_are_sticky() {
    let [p, a, b, c] = ports::<4>();
    let (_a, _b, _c) = (
        servers::http("a", a),
        servers::http("b", b),
        servers::http("c", c),
    );
    let lines = format!(
        "    balance uri\n    server a 127.0.0.1:{a}\n    server b 127.0.0.1:{b}\n    server c 127.0.0.1:{c}\n"
    );
    let _lbd = start_lbd("uri", &http_cfg(p, &lines), p);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..30 {
        let path = format!("/obj/{i}");
        let first = names_keep_alive(p, 3, &path);
        assert!(first.iter().all(|n| *n == first[0]), "{path}: {first:?}");
        seen.insert(first[0].clone());
    }
    assert_eq!(seen.len(), 3, "uri hash used only {seen:?}");

    let [p2] = ports::<1>();
    let lines = format!(
        "    balance source\n    server a 127.0.0.1:{a}\n    server b 127.0.0.1:{b}\n    server c 127.0.0.1:{c}\n"
    );
    let _lbd2 = start_lbd("source", &http_cfg(p2, &lines), p2);
    let names: Vec<_> = (0..10)
        .map(|_| get(p2, "/").map(|r| r.text()).unwrap_or_default())
        .collect();
    assert!(names.iter().all(|n| *n == names[0]), "{names:?}");
}

#[test]
fn failed_connects_redispatch_to_a_live_server() {
    let [p, live, dead] = ports::<3>();
    let _live = servers::http("live", live);
    let lines = format!(
        "    option redispatch\n    retries 2\n    server dead 127.0.0.1:{dead}\n    server live 127.0.0.1:{live}\n"
    );
    let _lbd = start_lbd("redisp", &http_cfg(p, &lines), p);
    for _ in 0..10 {
        let r = get(p, "/x").unwrap_or_else(|| panic!("no response"));
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "live /x");
    }
}

#[test]
fn health_checks_move_traffic_and_backups_take_over() {
    let [p, a, b, bk] = ports::<4>();
    let srv_a = servers::http("a", a);
    let _b = servers::http("b", b);
    let _bk = servers::http("bk", bk);
    let lines = format!(
        "    option httpchk GET /health\n    server a 127.0.0.1:{a} check inter 100 fall 2 rise 2\n    server b 127.0.0.1:{b} check inter 100 fall 2 rise 2\n    server bk 127.0.0.1:{bk} backup check inter 100\n"
    );
    let _lbd = start_lbd("health", &http_cfg(p, &lines), p);
    let spread = names_keep_alive(p, 10, "/");
    assert_eq!(count(&spread, "a"), 5);
    assert_eq!(count(&spread, "bk"), 0);
    // a dies: within inter × fall (plus slack) nothing goes to it anymore.
    drop(srv_a);
    let started = Instant::now();
    assert!(wait_for(|| names_keep_alive(p, 4, "/")
        .iter()
        .all(|n| n == "b")));
    // inter × fall is 200 ms; the bound leaves room for a loaded CI.
    assert!(started.elapsed() < Duration::from_secs(5));
    // b gets drained by health too: the backup takes over.
    drop(_b);
    assert!(wait_for(|| names_keep_alive(p, 3, "/")
        .iter()
        .all(|n| n == "bk")));
    // a comes back on the same port: after rise checks it is used again.
    let _a2 = servers::http("a", a);
    assert!(wait_for(|| names_keep_alive(p, 2, "/")
        .iter()
        .all(|n| n == "a")));
}

#[test]
fn no_usable_server_answers_haproxy_503() {
    let [p, dead] = ports::<2>();
    let lines = format!("    server s 127.0.0.1:{dead} check inter 100 fall 1\n");
    let _lbd = start_lbd("503", &http_cfg(p, &lines), p);
    let expected = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
    assert!(wait_for(|| servers::raw_exchange(
        p,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    ) == expected));
}

#[test]
fn a_full_server_queues_then_times_out_with_503() {
    let [p, s] = ports::<2>();
    let _s = servers::tcp_echo("s", s);
    let cfg = format!(
        "{DEFAULTS}    timeout queue 300ms\n    mode tcp\nlisten l\n    bind 127.0.0.1:{p}\n    server s 127.0.0.1:{s} maxconn 1\n"
    );
    let _lbd = start_lbd("queue", &cfg, p);
    let mut first = servers::connect(p);
    first.write_all(b"one").unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 3];
    first.read_exact(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    // The second waits in the queue; it is served once the first leaves.
    let mut second = servers::connect(p);
    second.write_all(b"two").unwrap_or_else(|e| panic!("{e}"));
    second
        .set_read_timeout(Some(Duration::from_millis(150)))
        .ok();
    assert!(
        second.read(&mut buf).is_err(),
        "served while the server was full"
    );
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(5))).ok();
    second
        .read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&buf, b"two");
    // A third waits longer than `timeout queue` and is dropped.
    let mut third = servers::connect(p);
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = third.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn frontend_maxconn_holds_new_connections_until_one_leaves() {
    let [p, s] = ports::<2>();
    let _s = servers::tcp_echo("s", s);
    let cfg = format!(
        "{DEFAULTS}    mode tcp\nlisten l\n    bind 127.0.0.1:{p}\n    maxconn 1\n    server s 127.0.0.1:{s}\n"
    );
    let _lbd = start_lbd("femaxconn", &cfg, p);
    // The readiness probe may still hold the only slot for a moment.
    let mut first = servers::connect(p);
    first.write_all(b"one").unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 3];
    first.read_exact(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    let mut second = servers::connect(p);
    second.write_all(b"two").unwrap_or_else(|e| panic!("{e}"));
    second
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok();
    assert!(
        second.read(&mut buf).is_err(),
        "a second connection was served"
    );
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(5))).ok();
    second
        .read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&buf, b"two");
}
