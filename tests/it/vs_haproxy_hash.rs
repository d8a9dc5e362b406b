//! Hash-based balancing on HAProxy and lbd: the same config, the same keys,
//! the same server for every key, so clients keep their server when they
//! move from one to the other.
//!
//! `balance source` (map-based, and consistent) is fed from distinct
//! loopback source addresses (127.x.y.z), `balance uri depth 3` (with
//! `hash-type map-based djb2 avalanche`) and `balance url_param` from
//! generated paths, on servers of unequal weights; then a server of each
//! backend is disabled through both stats sockets and every key is compared
//! again.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::skip_without;
use crate::harness::{Proc, Scratch, eventually, free_port, lbd_bin, wait_listening};
use crate::servers;

/// Front ports of one side: `source`, `uri`, `url_param` and consistent
/// `source` frontends.
#[derive(Clone, Copy)]
struct Fronts {
    source: u16,
    uri: u16,
    param: u16,
    ring: u16,
}

fn hash_cfg(sock: &Path, f: Fronts, origins: &[u16; 4]) -> String {
    let servers = |weights: [u32; 4]| -> String {
        origins
            .iter()
            .zip(weights)
            .enumerate()
            .map(|(i, (port, w))| format!("    server d{i} 127.0.0.1:{port} weight {w}\n"))
            .collect()
    };
    format!(
        "global\n    stats socket {sock} mode 600 level admin\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
         frontend by_source\n    bind 127.0.0.1:{fs}\n    default_backend src\n\n\
         frontend by_uri\n    bind 127.0.0.1:{fu}\n    default_backend uri\n\n\
         frontend by_param\n    bind 127.0.0.1:{fp}\n    default_backend param\n\n\
         frontend by_ring\n    bind 127.0.0.1:{fr}\n    default_backend ring\n\n\
         backend src\n    balance source\n{s_src}\n\
         backend uri\n    balance uri depth 3\n    hash-type map-based djb2 avalanche\n{s_uri}\n\
         backend param\n    balance url_param id\n{s_param}\n\
         backend ring\n    balance source\n    hash-type consistent\n{s_ring}",
        sock = sock.display(),
        fs = f.source,
        fu = f.uri,
        fp = f.param,
        fr = f.ring,
        s_src = servers([1, 2, 3, 1]),
        s_uri = servers([3, 1, 2, 2]),
        s_param = servers([1, 1, 1, 1]),
        s_ring = servers([2, 1, 1, 3]),
    )
}

/// One side: a process on the config and its stats socket.
struct Side {
    fronts: Fronts,
    sock: PathBuf,
    _proc: Proc,
    _dir: Scratch,
}

impl Side {
    fn start(name: &'static str, program: &Path, extra: &[&str], origins: &[u16; 4]) -> Side {
        let dir = Scratch::new(&format!("vs-hash-{name}"));
        let sock = dir.path.join("admin.sock");
        let fronts = Fronts {
            source: free_port(),
            uri: free_port(),
            param: free_port(),
            ring: free_port(),
        };
        let cfg = dir.write("hash.cfg", &hash_cfg(&sock, fronts, origins));
        let proc = Proc::spawn(
            name,
            Command::new(program)
                .args(extra)
                .arg("-f")
                .arg(&cfg)
                .current_dir(&dir.path)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        for port in [fronts.source, fronts.uri, fronts.param, fronts.ring] {
            assert!(wait_listening(port), "{name} did not listen on {port}");
        }
        let ready = eventually(100, Duration::from_millis(50), || {
            cli(&sock, "show servers state src").filter(|a| a.contains("d3"))
        });
        assert!(ready.is_some(), "{name} did not answer on its stats socket");
        Side {
            fronts,
            sock,
            _proc: proc,
            _dir: dir,
        }
    }

    fn disable(&self, server: &str) {
        let answer = cli(&self.sock, &format!("disable server {server}"));
        assert_eq!(
            answer.as_deref().map(str::trim),
            Some(""),
            "disable {server}"
        );
    }
}

/// One runtime API command; the answer, `None` if the socket refused.
fn cli(sock: &Path, command: &str) -> Option<String> {
    let mut s = UnixStream::connect(sock).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("{command}\n").as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// `GET path` on a new connection from `source`; the name of the server
/// that answered (the test servers answer `<name> <path>`).
fn server_for(source: [u8; 4], port: u16, path: &str) -> String {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("create a socket");
    let local: SocketAddr = (source, 0).into();
    socket.bind(&local.into()).expect("bind the source address");
    let remote: SocketAddr = ([127, 0, 0, 1], port).into();
    socket.connect(&remote.into()).expect("connect");
    let mut s: TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let req = format!("GET {path} HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send the request");
    let mut out = Vec::new();
    let _read = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    body.split(' ').next().unwrap_or("").to_string()
}

/// A small deterministic generator, so a failure names keys that can be
/// replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    fn word(&mut self) -> String {
        let len = 1 + self.next() % 6;
        (0..len)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[self.next() as usize % 36]))
            .collect()
    }
}

/// The keys: client addresses for `source`, paths for `uri` and
/// `url_param`.
struct Keys {
    sources: Vec<[u8; 4]>,
    paths: Vec<String>,
    params: Vec<String>,
}

fn keys(n: usize) -> Keys {
    let mut rng = Lcg(0x5eed);
    let mut sources: Vec<[u8; 4]> = Vec::new();
    while sources.len() < n {
        let [_, b, c, d] = rng.next().to_be_bytes();
        let ip = [127, b, c, d.max(1)];
        if !sources.contains(&ip) {
            sources.push(ip);
        }
    }
    let paths = (0..n)
        .map(|i| {
            let depth = 1 + rng.next() % 5;
            let mut p: String = (0..depth).map(|_| format!("/{}", rng.word())).collect();
            if i % 3 == 0 {
                p.push_str(&format!("?v={}", rng.word()));
            }
            p
        })
        .collect();
    let params = (0..n)
        .map(|i| match i % 4 {
            0 => format!("/p?id={}", rng.word()),
            1 => format!("/p?a=1&id={}&b=2", rng.word()),
            2 => format!("/p?ids={}&id={}", rng.word(), rng.word()),
            _ => format!("/p?id=&x={}", rng.word()),
        })
        .collect();
    Keys {
        sources,
        paths,
        params,
    }
}

/// Sends every key to both sides; the keys whose servers differ, and how
/// many were compared.
fn compare(haproxy: &Side, lbd: &Side, keys: &Keys) -> (Vec<String>, usize) {
    let mut diffs = Vec::new();
    let mut compared = 0;
    let mut seen: Vec<String> = Vec::new();
    let mut check = |what: String, h: String, l: String| {
        compared += 1;
        assert!(!h.is_empty(), "haproxy gave no server for {what}");
        if !seen.contains(&h) {
            seen.push(h.clone());
        }
        if h != l {
            diffs.push(format!("{what}: haproxy {h}, lbd {l}"));
        }
    };
    for ip in &keys.sources {
        let h = server_for(*ip, haproxy.fronts.source, "/");
        let l = server_for(*ip, lbd.fronts.source, "/");
        check(format!("source {ip:?}"), h, l);
        let h = server_for(*ip, haproxy.fronts.ring, "/");
        let l = server_for(*ip, lbd.fronts.ring, "/");
        check(format!("consistent source {ip:?}"), h, l);
    }
    let local = [127, 0, 0, 1];
    for p in &keys.paths {
        let h = server_for(local, haproxy.fronts.uri, p);
        let l = server_for(local, lbd.fronts.uri, p);
        check(format!("uri {p}"), h, l);
    }
    for p in &keys.params {
        let h = server_for(local, haproxy.fronts.param, p);
        let l = server_for(local, lbd.fronts.param, p);
        check(format!("url_param {p}"), h, l);
    }
    // Keys spread over the servers: agreeing on one server proves little.
    assert!(seen.len() >= 3, "haproxy only used {seen:?}");
    (diffs, compared)
}

#[test]
fn hash_balancing_picks_haproxys_server_for_every_key() {
    if skip_without("haproxy") {
        return;
    }
    let start = Instant::now();
    let origins: [u16; 4] = std::array::from_fn(|_| free_port());
    let _backends: Vec<_> = origins
        .iter()
        .enumerate()
        .map(|(i, &p)| servers::http(&format!("d{i}"), p))
        .collect();
    let haproxy = Side::start("haproxy", Path::new("haproxy"), &["-db"], &origins);
    let lbd = Side::start("lbd", &lbd_bin(), &[], &origins);
    let keys = keys(100);

    let (diffs, all_up) = compare(&haproxy, &lbd, &keys);
    assert!(diffs.is_empty(), "all servers up:\n{}", diffs.join("\n"));

    for side in [&haproxy, &lbd] {
        side.disable("src/d1");
        side.disable("uri/d2");
        side.disable("param/d0");
        side.disable("ring/d3");
    }
    let (diffs, one_down) = compare(&haproxy, &lbd, &keys);
    assert!(diffs.is_empty(), "one server down:\n{}", diffs.join("\n"));
    eprintln!(
        "{} keys gave the same server on haproxy and lbd in {} ms",
        all_up + one_down,
        start.elapsed().as_millis()
    );
}
