//! Evaluation of compiled rules against requests and an in-memory table
//! registry: fetch and matcher combinations, short-circuit side effects,
//! header edits, log-format expansion, tracking.

use std::net::SocketAddr;

use super::harness::{TestNames, compile};
use super::select_backend;
use crate::compile::program::ProxyId;
use crate::rules::action::{HttpVerdict, ResVerdict, Service, TcpVerdict};
use crate::rules::ctx::{Ctx, RuleState};
use crate::rules::message::{RequestHead, ResponseHead, Version};
use crate::stick::{DataType, TableId};
use crate::stick::{Key, KeyType, Tables};

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> RequestHead {
    let mut req = RequestHead::new();
    req.set_line(method.as_bytes(), uri.as_bytes(), Version::Http11);
    for (n, v) in headers {
        req.headers.push(n.as_bytes(), v.as_bytes());
    }
    req
}

fn tables() -> Tables {
    Tables::new(TestNames::classic().tables)
}

/// A counter of an IPv4 key's entry (0 when absent or not stored).
fn read(t: &Tables, table: TableId, ip: &str, d: DataType) -> u64 {
    let key = ip.parse().ok().and_then(|ip| Key::from_ip(KeyType::Ip, ip));
    let table = t.get(table);
    key.zip(table)
        .and_then(|(k, tb)| tb.lookup(&k, 0).and_then(|e| e.get(d, 0)))
        .unwrap_or(0)
}

fn used(t: &Tables, table: TableId) -> usize {
    t.get(table).map_or(0, |tb| tb.len())
}

/// Whether `cond` holds for a request from 10.1.2.3:4567 to 127.0.0.1:80.
fn holds(cond: &str, req: &RequestHead) -> bool {
    let c = compile(&format!("http-request deny if {cond}"));
    assert_eq!(c.diags, vec![], "{cond}");
    let t = tables();
    let mut state = RuleState::new();
    let mut req = req.clone();
    let mut ctx = Ctx::new(
        addr("10.1.2.3:4567"),
        addr("127.0.0.1:80"),
        &mut state,
        &t,
        0,
    )
    .with_request(&mut req);
    c.rules.run_http_request(&mut ctx) == HttpVerdict::Deny(403)
}

#[test]
fn fetches_and_matchers() {
    let req = request(
        "GET",
        "/api/v1/users?id=42&debug",
        &[
            ("Host", "WWW.Example.com"),
            ("X-List", "a, b"),
            ("X-List", "c"),
            ("Cookie", "sid=abc; lang=fr"),
        ],
    );
    let cases: &[(&str, bool)] = &[
        ("{ hdr_sub(host) -i example }", true),
        ("{ hdr_sub(host) example }", false),
        ("{ hdr(host),lower www.example.com }", true),
        ("{ hdr_end(host) -i .COM }", true),
        ("{ hdr_dom(host) -i example }", true),
        ("{ path_beg /api/ }", true),
        ("{ path_end /users }", true),
        ("{ path_reg ^/api/v[0-9]+/ }", true),
        ("{ path_dir v1 }", true),
        ("{ path -m len 13 }", true),
        ("{ url_param(id) 42 }", true),
        ("{ urlp(id) -m int gt 41 }", true),
        ("{ query -m sub debug }", true),
        ("{ method GET HEAD }", true),
        ("METH_POST", false),
        ("{ req.ver 1.1 }", true),
        ("{ base www.example.com/api/v1/users -i }", false),
        ("{ base -i www.example.com/api/v1/users }", true),
        ("{ cook(lang) fr }", true),
        ("{ req.cook(sid) -m beg ab }", true),
        ("{ cook_cnt gt 1 }", true),
        ("{ hdr(x-list) b }", true),
        ("{ hdr(x-list,1) b }", false),
        ("{ hdr(x-list,-1) c }", true),
        ("{ fhdr(x-list) -m str a, b }", false),
        ("{ hdr_cnt(x-list) eq 3 }", true),
        ("{ hdr_cnt(x-list) 1:2 }", false),
        ("{ req.hdr_cnt(host) 1 }", true),
        ("{ hdr_cnt eq 5 }", true),
        ("{ src 10.0.0.0/8 }", true),
        ("{ src 192.168.0.0/16 127.0.0.1 }", false),
        ("{ src_port 4567 }", true),
        ("{ dst_port lt 1024 }", true),
        ("{ dst 127.0.0.1 }", true),
        ("{ hdr(nope) -m found }", false),
        ("{ hdr(host) -m found }", true),
        ("{ ssl_fc }", false),
        ("!{ ssl_fc }", true),
        ("{ ssl_fc_sni -m found }", false),
        ("TRUE", true),
        ("FALSE or TRUE", true),
        ("FALSE || FALSE", false),
        ("{ always_true } !{ always_true }", false),
        ("{ hdr(host),base64 V1dXLkV4YW1wbGUuY29t }", true),
        ("{ hdr(host),length 15 }", true),
        ("{ sc0_tracked }", false),
        ("{ sc0_conn_rate -m found }", false),
        ("{ src_get_gpc0(http) eq 0 }", true),
        ("{ sc0_get_gpc0(http) -m found }", false),
        ("{ table_avl(http) eq 1000 }", true),
    ];
    for (cond, expected) in cases {
        assert_eq!(holds(cond, &req), *expected, "{cond}");
    }
}

/// The classic abuse config (haproxy-cli.md §5.2): `sc1_inc_gpc0` only runs
/// when the two terms before it hold, so gpc0 counts rejected requests.
#[test]
fn short_circuit_increments_gpc0_only_on_reject() {
    let c = compile(
        "acl conn_rate_abuse sc2_conn_rate gt 3\n\
         acl whitelist src 127.0.0.2\n\
         acl mark_as_abuser sc1_inc_gpc0 gt 0\n\
         acl source_is_abuser src_get_gpc0(http) gt 0\n\
         tcp-request connection track-sc1 src table http if !source_is_abuser\n\
         tcp-request content track-sc2 src table test1\n\
         tcp-request content reject if conn_rate_abuse !whitelist mark_as_abuser",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let http = TableId(1);
    let test1 = TableId(2);
    let connect = |client: &str| {
        let mut state = RuleState::new();
        let mut ctx = Ctx::new(addr(client), addr("127.0.0.1:80"), &mut state, &t, 0);
        let first = c.rules.run_tcp_connection(&mut ctx);
        let second = c.rules.run_tcp_content(&mut ctx);
        (first, second)
    };
    for _ in 0..3 {
        assert_eq!(
            connect("127.0.0.1:1000"),
            (TcpVerdict::Continue, TcpVerdict::Continue)
        );
    }
    let gpc0 = |ip: &str| read(&t, http, ip, DataType::Gpc0);
    assert_eq!(gpc0("127.0.0.1"), 0);
    assert_eq!(
        connect("127.0.0.1:1000"),
        (TcpVerdict::Continue, TcpVerdict::Reject)
    );
    assert_eq!(gpc0("127.0.0.1"), 1);
    assert_eq!(read(&t, test1, "127.0.0.1", DataType::ConnRate), 4);
    // Now an abuser: not tracked in `http` any more, so sc1_inc_gpc0 fails
    // and the reject rule no longer matches (the backend's job then).
    assert_eq!(
        connect("127.0.0.1:1000"),
        (TcpVerdict::Continue, TcpVerdict::Continue)
    );
    assert_eq!(gpc0("127.0.0.1"), 1);
    for _ in 0..6 {
        assert_eq!(connect("127.0.0.2:1000").1, TcpVerdict::Continue);
    }
    assert_eq!(gpc0("127.0.0.2"), 0);
    assert_eq!(read(&t, test1, "127.0.0.2", DataType::ConnRate), 6);
}

#[test]
fn one_tracker_per_slot_and_tracked_counters() {
    let c = compile(
        "tcp-request connection track-sc0 src\n\
         tcp-request connection track-sc0 src table http\n\
         tcp-request connection reject if { sc0_conn_cur gt 1 } || { sc_conn_cnt(0) gt 2 }\n\
         tcp-request connection reject if { sc0_inc_gpc0(http) gt 1 }\n\
         tcp-request connection accept if { sc0_tracked } { table_cnt(f) eq 1 }",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let mut state = RuleState::new();
    let mut ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0);
    assert_eq!(c.rules.run_tcp_connection(&mut ctx), TcpVerdict::Accept);
    assert_eq!(
        state.trackers[0].as_ref().map(|tr| tr.table()),
        Some(TableId(0))
    );
    assert_eq!(read(&t, TableId(0), "10.0.0.1", DataType::ConnCnt), 1);
    // sc0_inc_gpc0(http) created the tracked key's entry in `http`.
    assert_eq!(read(&t, TableId(1), "10.0.0.1", DataType::Gpc0), 1);
    let mut second = RuleState::new();
    let mut ctx = Ctx::new(addr("10.0.0.1:6"), addr("127.0.0.1:80"), &mut second, &t, 0);
    assert_eq!(c.rules.run_tcp_connection(&mut ctx), TcpVerdict::Reject);
}

#[test]
fn header_edits_and_log_format() {
    let c = compile(
        "http-request set-header X-Client %ci:%cp\n\
         http-request add-header X-Host %[req.hdr(host),upper]-%fi:%fp-100%%\n\
         http-request del-header X-Remove\n\
         http-request replace-header X-Ver ^v([0-9]+)$ version-\\1\n\
         http-request set-path /new%[path]\n\
         http-request set-var(txn.h) hdr(host),lower\n\
         http-request set-header X-Var %[var(txn.h)]%[hdr(missing)]\n\
         http-request set-header X-Track %[sc0_tracked]",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let mut state = RuleState::new();
    let mut req = request(
        "GET",
        "/p?q=1",
        &[
            ("Host", "Ex.com"),
            ("X-Remove", "1"),
            ("X-Ver", "v12"),
            ("x-remove", "2"),
        ],
    );
    let mut ctx =
        Ctx::new(addr("[::1]:9"), addr("10.0.0.1:80"), &mut state, &t, 0).with_request(&mut req);
    assert_eq!(c.rules.run_http_request(&mut ctx), HttpVerdict::Continue);
    let h = &req.headers;
    assert_eq!(h.first(b"x-client"), Some(&b"::1:9"[..]));
    assert_eq!(h.first(b"x-host"), Some(&b"EX.COM-10.0.0.1:80-100%"[..]));
    assert!(!h.contains(b"x-remove"));
    assert_eq!(h.first(b"x-ver"), Some(&b"version-12"[..]));
    assert_eq!(h.first(b"x-var"), Some(&b"ex.com"[..]));
    assert_eq!(h.first(b"x-track"), Some(&b"0"[..]));
    assert_eq!(req.uri(), b"/new/p?q=1");
}

#[test]
fn final_verdicts() {
    let c = compile(
        "http-request redirect prefix https://new.example.com code 301 if { path_beg /old }\n\
         http-request redirect scheme https drop-query if { path_beg /plain }\n\
         http-request return status 503 content-type text/plain string busy if { path /busy }\n\
         http-request auth realm admin if { path_beg /admin } !{ http_auth(L) }\n\
         http-request use-service prometheus-exporter if { path /metrics }\n\
         http-request tarpit if { path /slow }\n\
         http-request allow if { path /ok }\n\
         http-request reject if { path /rej }\n\
         http-request deny deny_status 429",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let run = |uri: &str, headers: &[(&str, &str)]| {
        let mut state = RuleState::new();
        let mut req = request("GET", uri, headers);
        let mut ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
            .with_request(&mut req);
        c.rules.run_http_request(&mut ctx)
    };
    let host = [("Host", "h.example")];
    assert_eq!(
        run("/old/a?x=1", &host),
        HttpVerdict::Redirect {
            code: 301,
            location: b"https://new.example.com/old/a?x=1".to_vec()
        }
    );
    assert_eq!(
        run("/plain?x=1", &host),
        HttpVerdict::Redirect {
            code: 302,
            location: b"https://h.example/plain".to_vec()
        }
    );
    assert_eq!(
        run("/busy", &host),
        HttpVerdict::Return {
            status: 503,
            content_type: Some("text/plain".into()),
            body: (&b"busy"[..]).into()
        }
    );
    assert_eq!(
        run("/admin", &host),
        HttpVerdict::Auth {
            realm: Some("admin".into())
        }
    );
    assert_eq!(
        run("/admin", &[("Authorization", "Basic dXNlcjpwYXNz")]),
        HttpVerdict::Deny(429)
    );
    assert_eq!(
        run("/metrics", &host),
        HttpVerdict::UseService(Service::PrometheusExporter)
    );
    assert_eq!(run("/slow", &host), HttpVerdict::Tarpit(500));
    assert_eq!(run("/ok", &host), HttpVerdict::Allow);
    assert_eq!(run("/rej", &host), HttpVerdict::Reject);
}

#[test]
fn response_rules_and_backend_selection() {
    let c = compile(
        "acl is_api path_beg /api\n\
         http-response set-header X-Status %[status]\n\
         http-response del-header Server\n\
         http-response deny if { res.hdr(x-secret) -m found }\n\
         use_backend app if is_api\n\
         use_backend ease-up if { hdr(host) -i ease }",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let mut state = RuleState::new();
    let mut req = request("GET", "/api/x", &[("Host", "EASE")]);
    let mut res = ResponseHead::new();
    res.set_status(Version::Http11, 200, b"OK");
    res.headers.push(b"Server", b"x");
    let mut ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
        .with_request(&mut req)
        .with_response(&mut res);
    assert_eq!(c.rules.run_http_response(&mut ctx), ResVerdict::Continue);
    assert_eq!(
        select_backend(&c.use_backend, None, &ctx),
        Some(ProxyId(10))
    );
    res.headers.push(b"X-Secret", b"1");
    // The data plane may lend the request read-only to response rules.
    let mut ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
        .with_request_ref(&req)
        .with_response(&mut res);
    assert_eq!(c.rules.run_http_response(&mut ctx), ResVerdict::Deny(502));
    assert_eq!(res.headers.first(b"x-status"), Some(&b"200"[..]));
    assert!(!res.headers.contains(b"server"));
    let mut other = request("GET", "/", &[("Host", "ease")]);
    let ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
        .with_request(&mut other);
    assert_eq!(
        select_backend(&c.use_backend, Some(ProxyId(3)), &ctx),
        Some(ProxyId(11))
    );
    let mut plain = request("GET", "/", &[]);
    let ctx = Ctx::new(addr("10.0.0.1:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
        .with_request(&mut plain);
    assert_eq!(
        select_backend(&c.use_backend, Some(ProxyId(3)), &ctx),
        Some(ProxyId(3))
    );
}

#[test]
fn src_fetches_read_zero_and_inc_creates() {
    let t = tables();
    let run = |cfg: &str| {
        let c = compile(cfg);
        assert_eq!(c.diags, vec![]);
        let mut verdicts = Vec::new();
        for _ in 0..3 {
            let mut state = RuleState::new();
            let mut ctx = Ctx::new(addr("10.9.9.9:1"), addr("127.0.0.1:80"), &mut state, &t, 0);
            verdicts.push(c.rules.run_tcp_connection(&mut ctx));
        }
        verdicts
    };
    // gpc0 reads 0 without an entry, so the AND stops before src_inc_gpc0
    // and no entry is created.
    let verdicts = run("acl counted src_inc_gpc0(http) gt 1\n\
         tcp-request connection reject if { src_get_gpc0(http) gt 0 } counted");
    assert_eq!(verdicts, vec![TcpVerdict::Continue; 3]);
    assert_eq!(used(&t, TableId(1)), 0);
    let verdicts = run("tcp-request connection reject if { src_inc_gpc0(http) gt 1 }");
    assert_eq!(used(&t, TableId(1)), 1);
    assert_eq!(
        verdicts,
        vec![TcpVerdict::Continue, TcpVerdict::Reject, TcpVerdict::Reject]
    );
    assert_eq!(read(&t, TableId(1), "10.9.9.9", DataType::Gpc0), 3);
}

/// Content trackers last one stream: with keep-alive, every request of the
/// connection counts again (haproxy-cli.md §5.2); connection trackers stay.
#[test]
fn content_trackers_end_with_the_stream() {
    let c = compile(
        "tcp-request connection track-sc1 src table http\n\
         tcp-request content track-sc2 src table test1\n\
         http-request set-var(txn.x) str(1)\n\
         http-request set-var(sess.y) str(2)",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let mut state = RuleState::new();
    let mut ctx = Ctx::new(addr("10.0.0.7:5"), addr("127.0.0.1:80"), &mut state, &t, 0);
    assert_eq!(c.rules.run_tcp_connection(&mut ctx), TcpVerdict::Continue);
    for _ in 0..3 {
        let mut req = request("GET", "/", &[]);
        let mut ctx = Ctx::new(addr("10.0.0.7:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
            .with_request(&mut req);
        assert_eq!(c.rules.run_tcp_content(&mut ctx), TcpVerdict::Continue);
        assert_eq!(c.rules.run_http_request(&mut ctx), HttpVerdict::Continue);
        assert!(state.vars.get("txn.x").is_some());
        state.end_stream();
        assert!(state.vars.get("txn.x").is_none() && state.vars.get("sess.y").is_some());
        assert!(state.trackers[1].is_some() && state.trackers[2].is_none());
    }
    assert_eq!(read(&t, TableId(2), "10.0.0.7", DataType::ConnRate), 3);
}

/// Every tracker counts the connection when it starts and gives `conn_cur`
/// back when it ends; `http-request` tracking also counts the request.
#[test]
fn trackers_count_and_release_conn_cur() {
    let c = compile(
        "tcp-request connection track-sc0 src\n\
         http-request track-sc1 src table f",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let f = TableId(0);
    let mut state = RuleState::new();
    let mut req = request("GET", "/", &[]);
    let mut ctx = Ctx::new(addr("10.0.0.8:5"), addr("127.0.0.1:80"), &mut state, &t, 0)
        .with_request(&mut req);
    assert_eq!(c.rules.run_tcp_connection(&mut ctx), TcpVerdict::Continue);
    assert_eq!(c.rules.run_http_request(&mut ctx), HttpVerdict::Continue);
    assert_eq!(read(&t, f, "10.0.0.8", DataType::ConnCur), 2);
    assert_eq!(read(&t, f, "10.0.0.8", DataType::ConnCnt), 2);
    assert_eq!(read(&t, f, "10.0.0.8", DataType::HttpReqCnt), 1);
    state.end_stream();
    assert_eq!(read(&t, f, "10.0.0.8", DataType::ConnCur), 1);
    drop(state);
    assert_eq!(read(&t, f, "10.0.0.8", DataType::ConnCur), 0);
}

/// The `meter` frontend of reference/configs/tables.cfg: keys of every type.
#[test]
fn tracking_keys_of_every_table_type() {
    let c = compile(
        "http-request track-sc1 src table st_ipv6 if { src ::1 }\n\
         http-request track-sc1 req.hdr(x-user) table str if { req.hdr(x-user) -m found }\n\
         http-request track-sc2 req.hdr(x-id),base64 table st_bin if { req.hdr(x-id) -m found }",
    );
    assert_eq!(c.diags, vec![]);
    let t = tables();
    let run = |client: &str, headers: &[(&str, &str)]| {
        let mut state = RuleState::new();
        let mut req = request("GET", "/", headers);
        let mut ctx =
            Ctx::new(addr(client), addr("127.0.0.1:80"), &mut state, &t, 0).with_request(&mut req);
        assert_eq!(c.rules.run_http_request(&mut ctx), HttpVerdict::Continue);
    };
    run("[::1]:5", &[("x-user", "alice"), ("x-id", "ab")]);
    assert_eq!(
        (
            used(&t, TableId(4)),
            used(&t, TableId(3)),
            used(&t, TableId(5))
        ),
        (1, 0, 1)
    );
    run("10.0.0.1:5", &[("x-user", "alice")]);
    run("10.0.0.2:5", &[("x-user", "alice")]);
    assert_eq!(used(&t, TableId(3)), 1);
    let bin = Key::from_bytes(KeyType::Binary { len: 8 }, b"YWI=");
    let hits = bin.and_then(|k| {
        t.get(TableId(5)).and_then(|tb| {
            tb.lookup(&k, 0)
                .and_then(|e| e.get(DataType::HttpReqCnt, 0))
        })
    });
    assert_eq!(hits, Some(1));
    let str_key = Key::from_bytes(KeyType::String { len: 32 }, b"alice");
    let hits = str_key.and_then(|k| {
        t.get(TableId(3))
            .and_then(|tb| tb.lookup(&k, 0).and_then(|e| e.get(DataType::Gpc0, 0)))
    });
    assert_eq!(hits, Some(0));
}
