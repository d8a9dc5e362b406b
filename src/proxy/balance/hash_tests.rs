//! Key → server tables captured from HAProxy 2.6.12 (`haproxy -db`), each
//! on the backend named in the table's comment: servers s0, s1, … of the
//! given weights, all on one `listen` section answering 200, and
//! `http-response set-header X-Srv %[srv_name]` reporting the server HAProxy
//! picked for one request carrying the key. Source addresses came in
//! through `bind … accept-proxy` (PROXY TCP4/TCP6 lines), so IPv6 and
//! arbitrary IPv4 clients could be tried from loopback; `disable server`
//! and `set server … state drain` went through the stats socket. Each
//! `use_domain_only` value was sent to a freshly started HAProxy (see
//! `hash::domain` on why). Indices below are positions in the backend.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::compile::program::Mode;
use crate::proxy::testutil;
use crate::rules::message::Version;
use crate::stats::{AdminState, OpState};

/// `balance source`, weights 1 1 1.
const SOURCE_1_1_1: &[(&str, u32)] = &[
    ("6513:270e:269e:d37:f2a7:4de4:52e6:b438", 1),
    ("166.163.164.80", 0),
    ("12.92.127.208", 1),
    ("::ffff:127.0.0.3", 1),
    ("93.157.201.248", 0),
    ("149.49.152.93", 2),
    ("36f6:75cc:81e7:4ef5:e8e2:5d94:ed9:475", 2),
    ("9.153.80.216", 2),
    ("22.0.163.90", 2),
    ("3d9c:1724:11e2:b8f:6b0d:549b:6f03:675a", 2),
    ("23.56.247.217", 0),
    ("141.17.110.206", 0),
];

/// `balance source`, weights 1 2 3.
const SOURCE_1_2_3: &[(&str, u32)] = &[
    ("90c1:92cf:d3ac:94af:f21:ddb6:6cad:4a26", 0),
    ("31.177.124.35", 2),
    ("242.140.16.93", 2),
    ("::ffff:127.0.0.3", 1),
    ("242.157.13.169", 2),
    ("15.214.48.241", 2),
    ("cb1:e29c:658c:da14:95e6:af5:93bd:4cf", 1),
    ("249.235.218.204", 0),
    ("56.152.209.144", 0),
    ("2217:bead:dbc4:96cb:8e81:973e:bec:d7b0", 1),
    ("74.35.213.150", 1),
    ("107.76.178.66", 1),
];

/// `balance source`, weights 5 3 7 1.
const SOURCE_5_3_7_1: &[(&str, u32)] = &[
    ("9227:6658:1e27:a1c0:8a6a:63ec:24ed:e6a4", 0),
    ("78.248.170.56", 2),
    ("143.109.5.88", 2),
    ("::ffff:127.0.0.3", 0),
    ("148.227.191.145", 1),
    ("146.58.115.105", 0),
    ("18f1:35d2:5f55:7203:3018:50c5:a38f:d547", 0),
    ("140.56.251.41", 0),
    ("182.76.228.34", 2),
    ("9e77:69b1:f42:5b4:907a:70c3:1012:f037", 1),
    ("52.185.181.223", 3),
    ("127.21.5.36", 2),
];

/// `balance source`, weights 1 2 3 1 2, then `disable server be/s1` and
/// `set server be/s3 state drain`.
const SOURCE_S1_MAINT_S3_DRAIN: &[(&str, u32)] = &[
    ("174.46.177.84", 2),
    ("136.30.209.98", 4),
    ("109.118.176.126", 2),
    ("198.248.119.24", 2),
    ("80.107.242.239", 4),
    ("119.49.175.16", 4),
    ("149.231.97.209", 4),
    ("236.102.167.135", 2),
    ("116.3.228.48", 4),
    ("92.144.169.88", 2),
    ("76.189.135.173", 2),
    ("63.152.226.119", 4),
];

/// `balance uri`, weights 1 1 1 1 (requests sent with `Host: h.example`).
const URI_1_1_1_1: &[(&str, u32)] = &[
    ("/pft75v/2seh60", 0),
    ("/vj50ce9/uvw53?f=4ed", 2),
    ("/2sywb3/kh5/n", 3),
    ("/pz/5fk2/9ri1?9r0wyoj=l", 2),
    ("http://h.example/oa/lqsa", 3),
    ("/8xui/6d39zz?zg4z=m", 0),
    ("/2k", 0),
    ("/dga?j8gxb=n", 3),
    ("/qw/x4hh5/44tf/gv", 0),
    ("/k7bn/xj8b7/fq7?kwo=86vom", 0),
];

/// `balance uri`, weights 1 2 3.
const URI_1_2_3: &[(&str, u32)] = &[
    ("/zom75wb/r", 2),
    ("/mw2/wxfogo4/vn/a4wf?hym4l1v=z", 0),
    ("/fkki/j/3j4wj/9ibag", 2),
    ("/mnbq/s6?uq=0idw3", 2),
    ("http://h.example/6i8j76b/2lajlj4/h9du7/94g9d", 2),
    ("/rc/g629be2?66m=r26846", 1),
    ("/7q9m2i/hz2u", 1),
    ("/p1enth?jxjqi3o=gz5kok", 2),
    ("/zv0mw/fxb/932/byv7s6", 2),
    ("/o?f=rcl", 1),
];

/// `balance uri whole`, weights 1 2 3.
const URI_WHOLE_1_2_3: &[(&str, u32)] = &[
    ("/i1qzj86/5ufrd/l1erbfq", 2),
    ("/oeqh3?v=0ric7", 1),
    ("/k/dlm", 1),
    ("/t7ns26/lrwbqc/b?69m64p=g158", 2),
    ("http://h.example/tnovm/izwdiae/q1kdfy/6spsc3l", 2),
    ("/2aq/v9u?ct=wl", 0),
    ("/yf4", 1),
    ("/mp6af/fjz/czbtt?of7jyu=5jsjc6", 2),
    ("/6i76bo/b/i/xgy29d", 2),
    ("/8p5qa3?e68f7e4=eqp", 1),
];

/// `balance uri depth 2 len 12`, weights 3 1 2.
const URI_DEPTH2_LEN12_3_1_2: &[(&str, u32)] = &[
    ("/35/ye4scme", 2),
    ("/qti/4?5=gn5", 1),
    ("/7s333h/mtf4b/3e6", 1),
    ("/ynn/f/7q/i6r?x=55", 2),
    ("http://h.example/k/5/2ztj0w/uhva", 2),
    ("/vzhmasq/ezy/ex1rdrg?s=jpr16u", 2),
    ("/x1bz99n/fd02is", 0),
    ("/9/k4/vstq/qzpt49?zhkken=59o2v", 2),
    ("/i9mp/l/9fu/xq", 0),
    ("/0/07ny?vd5=xi6", 0),
];

/// `balance url_param u`, weights 1 2 3 4.
const URL_PARAM_1_2_3_4: &[(&str, u32)] = &[
    ("/?u=alice", 3),
    ("/x?a=1&u=bob&c=3", 3),
    ("/x?u=bob&u=carl", 3),
    ("/x?u=", 0),
    ("/x?uu=1&u=dan", 2),
    ("/x?u=zz;jj", 3),
    ("/x?u=kk=ll", 3),
    ("/x?u=%41b", 2),
    ("/x?u=nfrpy", 1),
    ("/x?u=21tb", 2),
    ("/x?u=c1", 0),
    ("/x?u=45aez7", 3),
    ("/x?u=32pgojj", 2),
    ("/x?u=g3f9c", 3),
];

/// `balance hdr(X-K)`, weights 1 2 3 4: the `X-K` value sent.
const HDR_1_2_3_4: &[(&str, u32)] = &[
    ("alpha", 2),
    ("alpha, beta", 2),
    ("  alpha  ", 2),
    ("\"a,b\",c", 3),
    ("a\tb ,c", 3),
    ("i", 1),
    ("ct", 3),
    ("q7", 3),
    ("1hget7", 2),
    ("myqoa", 1),
    ("8", 2),
];

/// `balance hdr(X-K) use_domain_only`, weights 1 2 3 4.
const HDR_DOMAIN_1_2_3_4: &[(&str, u32)] = &[
    ("haproxy.1wt.eu", 3),
    ("www.example.com", 0),
    ("www.example.com:8080", 0),
    ("localhost", 3),
    ("a.bbbb.cc.d", 0),
    ("1.2.3.4", 1),
    ("x.y:8.0", 2),
    (".com", 3),
    ("a..b", 3),
    ("xy..", 1),
    ("abc...", 2),
    ("www.example.com.", 2),
];

fn backend(balance: Balance, weights: &[u32]) -> Proxy {
    let list: Vec<_> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (([127, 0, 0, 1], 1000 + i as u16).into(), *w))
        .collect();
    let mut p = testutil::listen(0, Mode::Http, None, testutil::servers(&list));
    p.balance = balance;
    p
}

fn pick(b: &Balancer, p: &Proxy, client: IpAddr, request: Option<&RequestHead>) -> Pick {
    b.pick(&p.servers, &PickCtx { client, request }, None)
}

fn source_table(p: &Proxy, table: &[(&str, u32)]) {
    let b = Balancer::new(p);
    for &(ip, want) in table {
        let client: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
        assert_eq!(pick(&b, p, client, None), Pick::Server(want), "source {ip}");
    }
}

fn get(uri: &str) -> RequestHead {
    let mut r = RequestHead::new();
    r.set_line(b"GET", uri.as_bytes(), Version::Http11);
    r.headers.push(b"Host", b"h.example");
    r
}

fn request_table(balance: Balance, weights: &[u32], table: &[(&str, u32)]) {
    let p = backend(balance, weights);
    let b = Balancer::new(&p);
    for &(uri, want) in table {
        let r = get(uri);
        let got = pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r));
        assert_eq!(got, Pick::Server(want), "{:?} {uri}", p.balance);
    }
}

fn header_table(use_domain_only: bool, table: &[(&str, u32)]) {
    let balance = Balance::Hdr {
        name: "x-k".into(),
        use_domain_only,
    };
    let p = backend(balance, &[1, 2, 3, 4]);
    let b = Balancer::new(&p);
    for &(value, want) in table {
        let mut r = get("/");
        r.headers.push(b"X-K", value.as_bytes());
        let got = pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r));
        assert_eq!(got, Pick::Server(want), "X-K: {value:?}");
    }
}

fn uri(whole: bool, len: u32, depth: u32) -> Balance {
    Balance::Uri { whole, len, depth }
}

#[test]
fn map_deals_slots_like_haproxy() {
    // Observed with 6 keys per residue: weights 1 2 3 → hash % 6 → these.
    assert_eq!(map::build(&[1, 2, 3]), vec![0, 2, 1, 2, 1, 2]);
    assert_eq!(map::build(&[1, 1, 1]), vec![0, 1, 2]);
    assert_eq!(map::build(&[0, 1, 0, 1]), vec![1, 3]);
    // A common factor only repeats the order: it is divided out.
    assert_eq!(map::build(&[2, 4, 6]), map::build(&[1, 2, 3]));
    assert!(map::build(&[0, 0]).is_empty());
    let big = map::build(&[256, 1, 100]);
    assert_eq!(big.len(), 357);
    assert_eq!(big.iter().filter(|&&s| s == 1).count(), 1);
}

#[test]
fn source_ipv4_is_the_address_ipv6_xors_its_words() {
    assert_eq!(
        hash::source(
            "127.0.0.5"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        ),
        0x7f00_0005
    );
    let v6: IpAddr = "2001:db8::1:0:0:1"
        .parse()
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(hash::source(v6), 0x2001_0db8 ^ 0x0001_0000 ^ 1);
    // A dual-stack listener's view of 127.0.0.3 is hashed as IPv6.
    let mapped: IpAddr = "::ffff:127.0.0.3"
        .parse()
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(hash::source(mapped), 0xffff ^ 0x7f00_0003);
}

#[test]
fn source_matches_haproxy_tables() {
    source_table(&backend(Balance::Source, &[1, 1, 1]), SOURCE_1_1_1);
    source_table(&backend(Balance::Source, &[1, 2, 3]), SOURCE_1_2_3);
    source_table(&backend(Balance::Source, &[5, 3, 7, 1]), SOURCE_5_3_7_1);
    let p = backend(Balance::Source, &[1, 2, 3, 1, 2]);
    p.servers[1].state.set_admin(AdminState::Maint, 1);
    p.servers[3].state.set_admin(AdminState::Drain, 1);
    source_table(&p, SOURCE_S1_MAINT_S3_DRAIN);
}

#[test]
fn source_map_follows_server_state() {
    let p = backend(Balance::Source, &[1, 2, 3, 1, 2]);
    let b = Balancer::new(&p);
    let client = |ip: &str| ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let before: Vec<_> = SOURCE_S1_MAINT_S3_DRAIN
        .iter()
        .map(|&(ip, _)| pick(&b, &p, client(ip), None))
        .collect();
    p.servers[1].state.set_op(OpState::Down, 1);
    p.servers[3].state.set_weight(0);
    for &(ip, want) in SOURCE_S1_MAINT_S3_DRAIN {
        assert_eq!(pick(&b, &p, client(ip), None), Pick::Server(want), "{ip}");
    }
    p.servers[1].state.set_op(OpState::Up, 2);
    p.servers[3].state.set_weight(1);
    let after: Vec<_> = SOURCE_S1_MAINT_S3_DRAIN
        .iter()
        .map(|&(ip, _)| pick(&b, &p, client(ip), None))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn uri_matches_haproxy_tables() {
    request_table(uri(false, 0, 0), &[1, 1, 1, 1], URI_1_1_1_1);
    request_table(uri(false, 0, 0), &[1, 2, 3], URI_1_2_3);
    request_table(uri(true, 0, 0), &[1, 2, 3], URI_WHOLE_1_2_3);
    request_table(uri(false, 12, 2), &[3, 1, 2], URI_DEPTH2_LEN12_3_1_2);
}

#[test]
fn uri_key_cuts_like_haproxy() {
    // Keys found by hashing every prefix of the URI and keeping the one
    // whose sdbm % 251 named HAProxy's pick among 251 equal servers.
    let cases: &[(&str, bool, u32, u32, &str)] = &[
        ("/a/b/c", false, 0, 2, "/a/b"),
        ("/a//b/c", false, 0, 2, "/a/"),
        ("/aa/bb?x=1/y/z", false, 0, 2, "/aa/bb"),
        ("/abcdef", false, 3, 0, "/ab"),
        ("/abc?def=1", true, 0, 0, "/abc?def=1"),
        ("/abc?d/ef=1", true, 5, 1, "/abc?"),
        (
            "http://h.example/abc?x",
            false,
            0,
            0,
            "http://h.example/abc",
        ),
        ("http://h.example/abc/d?x", false, 0, 1, "http:/"),
        ("*", false, 0, 0, "*"),
    ];
    for &(u, whole, len, depth, want) in cases {
        let r = get(u);
        assert_eq!(hash::uri_key(&r, whole, len, depth), want.as_bytes(), "{u}");
    }
}

#[test]
fn url_param_matches_haproxy_table() {
    let balance = Balance::UrlParam { name: "u".into() };
    request_table(balance, &[1, 2, 3, 4], URL_PARAM_1_2_3_4);
}

#[test]
fn hdr_matches_haproxy_tables() {
    header_table(false, HDR_1_2_3_4);
    header_table(true, HDR_DOMAIN_1_2_3_4);
    assert_eq!(hash::hdr_key(b" , x", false), None);
    assert_eq!(hash::domain(b"a.b.c..d"), b"c.");
}

#[test]
fn missing_key_walks_the_map_across_rebuilds() {
    // HAProxy 2.6, `balance url_param u`, weights 1 2 3: eight requests
    // without `u`, two with `u=abc`, three without, then `disable server
    // be/s2` and four without, then `enable server be/s2` and five without.
    let p = backend(Balance::UrlParam { name: "u".into() }, &[1, 2, 3]);
    let b = Balancer::new(&p);
    let send = |uri: &str, n: usize| -> Vec<u32> {
        let r = get(uri);
        (0..n)
            .map(
                |_| match pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r)) {
                    Pick::Server(i) => i,
                    other => panic!("{other:?}"),
                },
            )
            .collect()
    };
    assert_eq!(send("/p", 8), [0, 2, 1, 2, 1, 2, 0, 2]);
    // A hashed pick does not move the round robin.
    assert_eq!(send("/p?u=abc", 2), [1, 1]);
    assert_eq!(send("/p", 3), [1, 2, 1]);
    p.servers[2].state.set_admin(AdminState::Maint, 1);
    // The cursor (slot 5) is past the 3-slot map: it starts over.
    assert_eq!(send("/p", 4), [0, 1, 1, 0]);
    p.servers[2].state.set_admin(AdminState::Ready, 2);
    // The cursor (slot 1) keeps its place in the rebuilt map.
    assert_eq!(send("/p", 5), [2, 1, 2, 1, 2]);
}

#[test]
fn cursor_at_the_end_of_a_small_map_continues_in_a_larger_one() {
    // HAProxy 2.6: weights 1 2 3 with s2 disabled, three requests without
    // `u` (s0 s1 s1), `enable server be/s2`, four more: s2 s1 s2 s0, slots
    // 3 4 5 0 of the full map.
    let p = backend(Balance::UrlParam { name: "u".into() }, &[1, 2, 3]);
    p.servers[2].state.set_admin(AdminState::Maint, 1);
    let b = Balancer::new(&p);
    let r = get("/p");
    let next = || match pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r)) {
        Pick::Server(i) => i,
        other => panic!("{other:?}"),
    };
    let seq: Vec<u32> = (0..3).map(|_| next()).collect();
    assert_eq!(seq, [0, 1, 1]);
    p.servers[2].state.set_admin(AdminState::Ready, 2);
    let seq: Vec<u32> = (0..4).map(|_| next()).collect();
    assert_eq!(seq, [2, 1, 2, 0]);
}

#[test]
fn full_server_keeps_its_slots_and_passes_the_pick_on() {
    let mut p = backend(Balance::Source, &[1, 1, 1]);
    p.servers[1].maxconn = 1;
    let b = Balancer::new(&p);
    let c = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)); // 0x0a000003 % 3 = 1
    assert_eq!(pick(&b, &p, c, None), Pick::Server(1));
    p.servers[1]
        .state
        .cur_conns
        .store(1, std::sync::atomic::Ordering::Relaxed);
    // The next slot's server takes it; other clients keep theirs.
    assert_eq!(pick(&b, &p, c, None), Pick::Server(2));
    let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)); // % 3 = 0
    assert_eq!(pick(&b, &p, other, None), Pick::Server(0));
}

/// `hash-type map-based sdbm avalanche`, `balance source`, 251 servers of
/// weight 1 (the map is then the identity, so the server is the hash
/// modulo 251): client address (PROXY TCP4) → server.
const AVALANCHE_SOURCE_251: &[(u32, u32)] = &[
    (0x3c6da5d7, 25),
    (0x4da4f9fc, 223),
    (0x1a6916c7, 53),
    (0xb8a1abcd, 198),
    (0x656412a9, 213),
    (0x7a97c643, 95),
    (0x27ac435a, 71),
    (0x1710cf53, 62),
    (0x11072231, 227),
    (0x0512bd13, 3),
];

#[test]
fn hash_functions_and_avalanche() {
    assert_eq!(sdbm(b""), 0);
    assert_eq!(sdbm(b"a"), 97);
    assert_eq!(sdbm(b"ab"), 97 * 65599 + 98);
    assert_eq!(hash::djb2(b""), 5381);
    assert_eq!(hash::djb2(b"a"), 5381 * 33 + 97);
    assert_eq!(hash::crc32(b"123456789"), 0xcbf4_3926);
    for &(addr, server) in AVALANCHE_SOURCE_251 {
        assert_eq!(hash::avalanche(addr) % 251, server, "{addr:#x}");
    }
}

#[test]
fn hash_type_reaches_the_pick() {
    use crate::compile::program::{HashFunction, HashMethod, HashType};
    let mut p = backend(Balance::Source, &[1; 251]);
    p.hash_type = HashType {
        method: HashMethod::MapBased,
        function: HashFunction::Sdbm,
        avalanche: true,
    };
    let b = Balancer::new(&p);
    for &(addr, want) in AVALANCHE_SOURCE_251 {
        let client = IpAddr::V4(Ipv4Addr::from(addr));
        assert_eq!(pick(&b, &p, client, None), Pick::Server(want));
    }
    // djb2 on the uri key: the same map slot as the bare function gives.
    let mut p = backend(uri(false, 0, 0), &[1, 2, 3]);
    p.hash_type = HashType {
        method: HashMethod::MapBased,
        function: HashFunction::Djb2,
        avalanche: false,
    };
    let b = Balancer::new(&p);
    let slots = map::build(&[1, 2, 3]);
    for path in ["/a", "/b/c", "/dd?e"] {
        let r = get(path);
        let key = hash::uri_key(&r, false, 0, 0);
        let want = slots[hash::djb2(key) as usize % slots.len()];
        let got = pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r));
        assert_eq!(got, Pick::Server(want), "{path}");
    }
}

/// `hash-type consistent`, `balance source`, client address (PROXY TCP4)
/// → server, on weights 1 1 1 and on 1 2 3 (the same addresses).
const CONSISTENT_SOURCE: &[(u32, u32, u32)] = &[
    (0x73cf256d, 1, 1),
    (0xdda1494c, 2, 2),
    (0x8f4d3e27, 0, 2),
    (0xdb5b5fab, 2, 2),
    (0xec99108d, 1, 2),
    (0xc7fde805, 0, 0),
    (0x7734d7c1, 2, 2),
    (0x73ab4876, 2, 2),
    (0x8201e2bd, 0, 0),
    (0xdae44550, 2, 1),
    (0x965eda32, 2, 2),
    (0x309d6b79, 0, 2),
];

/// `hash-type consistent`, `balance uri`, weights 1 2 3.
const CONSISTENT_URI_1_2_3: &[(&str, u32)] = &[
    ("/wnuj", 2),
    ("/zp/fqqhz", 0),
    ("/l", 1),
    ("/cezy/hw/n", 0),
    ("/tobk/pwdul/e", 2),
    ("/d/o/rx", 2),
    ("/pefv/p", 0),
    ("/y", 0),
    ("/vz", 2),
    ("/xcdrp/mgker/jloq", 1),
];

fn consistent() -> crate::compile::program::HashType {
    use crate::compile::program::{HashFunction, HashMethod, HashType};
    HashType {
        method: HashMethod::Consistent,
        function: HashFunction::Sdbm,
        avalanche: true,
    }
}

#[test]
fn consistent_matches_haproxy_tables() {
    for (weights, column) in [([1, 1, 1], 0), ([1, 2, 3], 1)] {
        let mut p = backend(Balance::Source, &weights);
        p.hash_type = consistent();
        let b = Balancer::new(&p);
        for &(addr, on_equal, on_1_2_3) in CONSISTENT_SOURCE {
            let want = if column == 0 { on_equal } else { on_1_2_3 };
            let client = IpAddr::V4(Ipv4Addr::from(addr));
            let got = pick(&b, &p, client, None);
            assert_eq!(got, Pick::Server(want), "{weights:?} {addr:#x}");
        }
    }
    let mut p = backend(uri(false, 0, 0), &[1, 2, 3]);
    p.hash_type = consistent();
    let b = Balancer::new(&p);
    for &(path, want) in CONSISTENT_URI_1_2_3 {
        let r = get(path);
        let got = pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r));
        assert_eq!(got, Pick::Server(want), "{path}");
    }
}

#[test]
fn consistent_moves_only_the_keys_of_a_server_that_leaves() {
    let mut p = backend(Balance::Source, &[1, 2, 3, 1]);
    p.hash_type = consistent();
    let b = Balancer::new(&p);
    let clients: Vec<IpAddr> = (0..400u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i * 7919)))
        .collect();
    let before: Vec<Pick> = clients.iter().map(|&c| pick(&b, &p, c, None)).collect();
    p.servers[2].state.set_op(OpState::Down, 1);
    for (c, was) in clients.iter().zip(&before) {
        let now = pick(&b, &p, *c, None);
        if *was != Pick::Server(2) {
            assert_eq!(now, *was, "{c} moved though its server stayed");
        } else {
            assert_ne!(now, Pick::Server(2));
        }
    }
}

#[test]
fn consistent_missing_key_walks_the_ring_across_changes() {
    // HAProxy 2.6, `balance url_param u`, `hash-type consistent`, weights
    // 1 2 3, requests without `u`: 50 picks, `disable server be/s2` (the
    // 50th pick was s2's point), 10 picks, `enable server be/s2`, 10 picks.
    let mut p = backend(Balance::UrlParam { name: "u".into() }, &[1, 2, 3]);
    p.hash_type = consistent();
    let b = Balancer::new(&p);
    let r = get("/p");
    let send = |n: usize| -> Vec<u32> {
        (0..n)
            .map(
                |_| match pick(&b, &p, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&r)) {
                    Pick::Server(i) => i,
                    other => panic!("{other:?}"),
                },
            )
            .collect()
    };
    let first: [u32; 50] = [
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 2, 0, 2, 0, 1, 2, 0, 0, 2, 0, 1, 1, 2, 2, 2, 0, 2,
        2, 1, 2, 2, 2, 0, 1, 2, 1, 2, 2, 2, 0, 2, 1, 2, 1, 1, 0, 2,
    ];
    assert_eq!(send(50), first);
    p.servers[2].state.set_admin(AdminState::Maint, 1);
    assert_eq!(send(10), [1, 1, 1, 1, 0, 0, 1, 0, 1, 1]);
    p.servers[2].state.set_admin(AdminState::Ready, 2);
    assert_eq!(send(10), [1, 2, 1, 1, 2, 1, 1, 1, 0, 1]);
}
