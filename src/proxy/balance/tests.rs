use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;

use super::*;
use crate::compile::program::Mode;
use crate::proxy::testutil;
use crate::rules::message::Version;
use crate::stats::{AdminState, OpState};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn backend(balance: Balance, weights: &[u32]) -> Proxy {
    let list: Vec<_> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (addr(1000 + i as u16), *w))
        .collect();
    let mut p = testutil::listen(0, Mode::Http, None, testutil::servers(&list));
    p.balance = balance;
    p
}

fn ctx() -> PickCtx<'static> {
    PickCtx {
        client: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        request: None,
    }
}

fn picks(b: &Balancer, p: &Proxy, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| match b.pick(&p.servers, &ctx(), None) {
            Pick::Server(i) => i,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn counts(seq: &[u32], n: usize) -> Vec<usize> {
    let mut c = vec![0; n];
    for &i in seq {
        c[i as usize] += 1;
    }
    c
}

#[test]
fn roundrobin_equal_weights_split_999_evenly() {
    let p = backend(Balance::RoundRobin, &[1, 1, 1]);
    let b = Balancer::new(&p);
    assert_eq!(counts(&picks(&b, &p, 999), 3), vec![333, 333, 333]);
}

#[test]
fn roundrobin_weights_interleave() {
    let p = backend(Balance::RoundRobin, &[10, 20, 30]);
    let b = Balancer::new(&p);
    let seq = picks(&b, &p, 60);
    assert_eq!(counts(&seq, 3), vec![10, 20, 30]);
    // Never three picks of the same server in a row with these weights.
    assert!(
        seq.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])),
        "{seq:?}"
    );
    assert_eq!(&seq[..6], &[2, 1, 0, 2, 1, 2]);
}

#[test]
fn roundrobin_follows_live_weight_and_state() {
    let p = backend(Balance::RoundRobin, &[1, 1, 1]);
    let b = Balancer::new(&p);
    p.servers[1].state.set_op(OpState::Down, 1);
    let c = counts(&picks(&b, &p, 100), 3);
    assert_eq!(c[1], 0);
    p.servers[1].state.set_op(OpState::Up, 2);
    p.servers[2].state.set_weight(0);
    p.servers[0].state.set_admin(AdminState::Maint, 3);
    assert_eq!(counts(&picks(&b, &p, 10), 3), vec![0, 10, 0]);
}

#[test]
fn static_rr_uses_configured_weights() {
    let p = backend(Balance::StaticRr, &[1, 3]);
    let b = Balancer::new(&p);
    assert_eq!(counts(&picks(&b, &p, 40), 2), vec![10, 30]);
}

#[test]
fn backups_only_when_no_active_is_usable() {
    let mut p = backend(Balance::RoundRobin, &[1, 1, 1, 1]);
    p.servers[2].backup = true;
    p.servers[3].backup = true;
    let b = Balancer::new(&p);
    assert_eq!(counts(&picks(&b, &p, 10), 4), vec![5, 5, 0, 0]);
    p.servers[0].state.set_op(OpState::Down, 1);
    p.servers[1].state.set_op(OpState::Down, 1);
    // Only the first usable backup.
    assert_eq!(counts(&picks(&b, &p, 10), 4), vec![0, 0, 10, 0]);
    p.servers[2].state.set_admin(AdminState::Maint, 1);
    assert_eq!(counts(&picks(&b, &p, 10), 4), vec![0, 0, 0, 10]);
    p.servers[3].state.set_op(OpState::Down, 1);
    assert_eq!(b.pick(&p.servers, &ctx(), None), Pick::NoneUsable);
}

#[test]
fn full_servers_are_skipped_then_all_full() {
    let mut p = backend(Balance::RoundRobin, &[1, 1]);
    p.servers[0].maxconn = 1;
    p.servers[1].maxconn = 1;
    let b = Balancer::new(&p);
    p.servers[0].state.cur_conns.store(1, Ordering::Relaxed);
    assert_eq!(counts(&picks(&b, &p, 4), 2), vec![0, 4]);
    p.servers[1].state.cur_conns.store(1, Ordering::Relaxed);
    assert_eq!(b.pick(&p.servers, &ctx(), None), Pick::AllFull);
}

#[test]
fn leastconn_prefers_fewest_connections() {
    let p = backend(Balance::LeastConn, &[1, 1, 1]);
    let b = Balancer::new(&p);
    p.servers[0].state.cur_conns.store(5, Ordering::Relaxed);
    p.servers[1].state.cur_conns.store(2, Ordering::Relaxed);
    p.servers[2].state.cur_conns.store(3, Ordering::Relaxed);
    assert_eq!(picks(&b, &p, 5), vec![1; 5]);
    // Ties rotate.
    for s in &p.servers {
        s.state.cur_conns.store(0, Ordering::Relaxed);
    }
    assert_eq!(counts(&picks(&b, &p, 9), 3), vec![3, 3, 3]);
}

#[test]
fn first_fills_servers_in_order() {
    let mut p = backend(Balance::First, &[1, 1]);
    p.servers[0].maxconn = 2;
    let b = Balancer::new(&p);
    assert_eq!(picks(&b, &p, 3), vec![0, 0, 0]);
    p.servers[0].state.cur_conns.store(2, Ordering::Relaxed);
    assert_eq!(picks(&b, &p, 2), vec![1, 1]);
}

#[test]
fn source_is_stable_per_client_and_spreads() {
    let p = backend(Balance::Source, &[1, 1, 1]);
    let b = Balancer::new(&p);
    let mut seen = [0usize; 3];
    for last in 0..=255u8 {
        let c = PickCtx {
            client: IpAddr::V4(Ipv4Addr::new(192, 168, 1, last)),
            request: None,
        };
        let first = b.pick(&p.servers, &c, None);
        for _ in 0..3 {
            assert_eq!(b.pick(&p.servers, &c, None), first);
        }
        if let Pick::Server(i) = first {
            seen[i as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
}

fn request(uri: &[u8], host: Option<&[u8]>) -> RequestHead {
    let mut r = RequestHead::new();
    r.set_line(b"GET", uri, Version::Http11);
    if let Some(h) = host {
        r.headers.push(b"Host", h);
    }
    r
}

fn pick_req(b: &Balancer, p: &Proxy, r: &RequestHead) -> Pick {
    let c = PickCtx {
        client: IpAddr::V4(Ipv4Addr::LOCALHOST),
        request: Some(r),
    };
    b.pick(&p.servers, &c, None)
}

#[test]
fn uri_hash_is_stable_and_ignores_query_unless_whole() {
    let p = backend(
        Balance::Uri {
            whole: false,
            len: 0,
            depth: 0,
        },
        &[1, 1, 1, 1],
    );
    let b = Balancer::new(&p);
    let mut spread = [0usize; 4];
    for i in 0..64 {
        let path = format!("/img/{i}.png");
        let a = pick_req(&b, &p, &request(path.as_bytes(), None));
        let with_q = format!("{path}?v={i}");
        assert_eq!(pick_req(&b, &p, &request(with_q.as_bytes(), None)), a);
        if let Pick::Server(s) = a {
            spread[s as usize] += 1;
        }
    }
    assert!(spread.iter().all(|&n| n > 5), "{spread:?}");
    let r = request(b"/a/b/c", None);
    assert_eq!(hash::uri_key(&r, false, 0, 2), b"/a/b");
    assert_eq!(hash::uri_key(&r, false, 3, 0), b"/a/");
}

#[test]
fn url_param_and_hdr_fall_back_to_roundrobin_without_key() {
    let p = backend(
        Balance::UrlParam {
            name: "user".into(),
        },
        &[1, 1, 1],
    );
    let b = Balancer::new(&p);
    let a = pick_req(&b, &p, &request(b"/x?a=1&user=bob", None));
    for _ in 0..5 {
        assert_eq!(pick_req(&b, &p, &request(b"/y?user=bob", None)), a);
    }
    let mut seen = [0; 3];
    for _ in 0..9 {
        if let Pick::Server(i) = pick_req(&b, &p, &request(b"/y", None)) {
            seen[i as usize] += 1;
        }
    }
    assert_eq!(seen, [3, 3, 3]);

    let p = backend(
        Balance::Hdr {
            name: "host".into(),
            use_domain_only: true,
        },
        &[1, 1, 1],
    );
    let b = Balancer::new(&p);
    let a = pick_req(&b, &p, &request(b"/", Some(b"www.example.com")));
    assert_eq!(
        pick_req(&b, &p, &request(b"/", Some(b"img.example.org:80"))),
        a
    );
    assert_eq!(
        hash::hdr_key(b"www.example.com:8080", true),
        Some(&b"example"[..])
    );
}

#[test]
fn random_respects_weights_roughly() {
    let p = backend(Balance::Random { draws: 1 }, &[1, 3]);
    let b = Balancer::new(&p);
    let c = counts(&picks(&b, &p, 4000), 2);
    assert!(c[1] > 2 * c[0], "{c:?}");
}

#[test]
fn redispatch_avoids_the_failed_server_unless_alone() {
    let p = backend(Balance::RoundRobin, &[1, 1]);
    let b = Balancer::new(&p);
    for _ in 0..4 {
        assert_eq!(b.pick(&p.servers, &ctx(), Some(0)), Pick::Server(1));
    }
    p.servers[1].state.set_op(OpState::Down, 1);
    assert_eq!(b.pick(&p.servers, &ctx(), Some(0)), Pick::Server(0));
}
