//! Stick-table counters on HAProxy and lbd: the same config, the same
//! traffic at the same moments, the same `show table` lines (keys and every
//! counter; the entry pointer and `exp=` aside).
//!
//! The config is the reference's `tables.cfg` `meter_ip` setup (tracked by
//! `tcp-request connection track-sc0`) plus a table of 3 s rates tracked by
//! `http-request track-sc1`, so that within ~7 s the previous period's decay
//! shows in the rates.

use std::io::{BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::{skip_without, socat, stable};
use crate::harness::{Proc, Scratch, eventually, free_port, lbd_bin, wait_listening};
use crate::servers;

fn stick_cfg(sock: &Path, front: u16, origin: u16) -> String {
    format!(
        "global\n    stats socket {sock} mode 600 level admin\n    stats timeout 2m\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
         frontend meter\n    bind 127.0.0.1:{front}\n\
         \x20   tcp-request connection track-sc0 src table meter_ip\n\
         \x20   http-request track-sc1 src table rates\n\
         \x20   default_backend origin\n\n\
         backend origin\n    server origin 127.0.0.1:{origin}\n\n\
         backend meter_ip\n    stick-table type ip size 1k expire 10m store gpc0,gpc0_rate(10s),gpc1,conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_in_rate(10s),bytes_out_cnt,bytes_out_rate(10s),server_id\n\n\
         backend rates\n    stick-table type ip size 1k expire 10m store conn_rate(3s),http_req_rate(3s),bytes_out_rate(3s)\n",
        sock = sock.display()
    )
}

/// One side: a process on a config, its front port and stats socket.
struct Side {
    name: &'static str,
    port: u16,
    sock: std::path::PathBuf,
    _proc: Proc,
    _dir: Scratch,
}

impl Side {
    fn start(name: &'static str, program: &Path, extra: &[&str], origin: u16) -> Side {
        let dir = Scratch::new(&format!("vs-stick-{name}"));
        let sock = dir.path.join("admin.sock");
        let port = free_port();
        let cfg = dir.write("stick.cfg", &stick_cfg(&sock, port, origin));
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
        assert!(wait_listening(port), "{name} did not listen on {port}");
        let ready = eventually(100, Duration::from_millis(50), || {
            sock.exists()
                .then(|| socat(&sock, "show table\n"))
                .filter(|a| a.contains("# table: rates"))
        });
        assert!(ready.is_some(), "{name} did not answer on its stats socket");
        // The probe above opened a connection: forget its entry.
        socat(&sock, "clear table meter_ip; clear table rates\n");
        Side {
            name,
            port,
            sock,
            _proc: proc,
            _dir: dir,
        }
    }

    /// `show table <t>` with the pointers and `exp=` values blanked.
    fn table(&self, table: &str) -> String {
        stable(&socat(&self.sock, &format!("show table {table}\n")))
    }
}

/// `conns` client connections on each side, opened together, each sending
/// `reqs` keep-alive requests in turn, then closed. The sides go in
/// lockstep (each request to HAProxy, then the same to lbd) so that both
/// see every event within a few milliseconds of the other.
fn traffic(sides: [&Side; 2], conns: usize, reqs: usize) {
    let mut clients: Vec<_> = (0..conns)
        .flat_map(|c| sides.map(|side| (c, side)))
        .map(|(c, side)| {
            let s = servers::connect(side.port);
            let w = s
                .try_clone()
                .unwrap_or_else(|e| panic!("clone socket: {e}"));
            (c, side, w, BufReader::new(s))
        })
        .collect();
    for i in 0..reqs {
        for (c, side, w, r) in clients.iter_mut() {
            let req = format!("GET /c{c}/r{i} HTTP/1.1\r\nHost: meter\r\nUser-Agent: it\r\n\r\n");
            assert!(w.write_all(req.as_bytes()).is_ok(), "{}: send", side.name);
            let res = servers::read_response(r);
            assert_eq!(
                res.map(|r| r.status),
                Some(200),
                "{}: response to conn {c} request {i}",
                side.name
            );
        }
    }
}

/// Words of a `show table` line; `name=value` words split for comparison.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|w| match w.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (w.to_string(), String::new()),
        })
        .collect()
}

/// Whether lbd's `show table` text agrees with HAProxy's read just before
/// and just after it: same lines, same words, every counter equal, and
/// every `*_rate` value within the two HAProxy readings (a rate's
/// previous-period share decays while the three answers are read, so an
/// exact match would depend on how many milliseconds lie between them).
fn agree(ours: &str, before: &str, after: &str) -> bool {
    let lines = |t: &str| t.lines().map(fields).collect::<Vec<_>>();
    let (o, b, a) = (lines(ours), lines(before), lines(after));
    o.len() == b.len()
        && o.len() == a.len()
        && o.iter().zip(&b).zip(&a).all(|((fo, fb), fa)| {
            fo.len() == fb.len()
                && fo.len() == fa.len()
                && fo
                    .iter()
                    .zip(fb)
                    .zip(fa)
                    .all(|(((no, vo), (nb, vb)), (na, va))| {
                        no == nb && no == na && (vo == vb || vo == va || within(no, vo, vb, va))
                    })
        })
}

/// A rate value `ours` between `before` and `after`.
fn within(name: &str, ours: &str, before: &str, after: &str) -> bool {
    let parse = |v: &str| v.parse::<u64>().ok();
    match (parse(ours), parse(before), parse(after)) {
        (Some(o), Some(b), Some(a)) if name.contains("_rate(") => b.min(a) <= o && o <= b.max(a),
        _ => false,
    }
}

/// Both tables of both sides at (nearly) the same moment, until they agree
/// or ~3 s pass (sessions end asynchronously: `conn_cur` may lag). Returns
/// the last texts `(lbd, haproxy)` per table when they never agreed.
fn compare(lbd: &Side, hap: &Side, when: &str) -> Vec<String> {
    let mut last = Vec::new();
    let agreed = eventually(30, Duration::from_millis(100), || {
        last.clear();
        let mut ok = true;
        for t in ["meter_ip", "rates"] {
            let (theirs, ours, after) = (hap.table(t), lbd.table(t), hap.table(t));
            if !agree(&ours, &theirs, &after) {
                ok = false;
                last.push(format!(
                    "{when}, table {t}:\n  lbd:     {ours}\n  haproxy: {theirs}"
                ));
            }
        }
        ok.then_some(())
    });
    if agreed.is_some() {
        return Vec::new();
    }
    last
}

/// Waits (bounded) until `at` since `start`.
fn wait_until(start: Instant, at: Duration) {
    let _ = eventually(200, Duration::from_millis(50), || {
        (start.elapsed() >= at).then_some(())
    });
}

/// Every counter of both tables agrees exactly, and every rate lies between
/// two HAProxy readings taken around lbd's (no tolerance: the lockstep
/// traffic keeps the two sides' periods aligned).
/// Regressions this caught: `sess_cnt`/`sess_rate` were never counted, and
/// `bytes_out_*` missed bodies that arrived in the same read as their head.
#[test]
fn stick_counters_match_haproxy() {
    if skip_without("socat") || skip_without("haproxy") {
        return;
    }
    let origin_port = free_port();
    let _origin = servers::http("origin", origin_port);
    let hap = Side::start("haproxy", Path::new("haproxy"), &["-db"], origin_port);
    let lbd = Side::start("lbd", &lbd_bin(), &[], origin_port);

    let start = Instant::now();
    let mut differences = Vec::new();
    // (at, connections, keep-alive requests each)
    let phases = [
        (Duration::ZERO, 3, 4),
        (Duration::from_millis(3_500), 2, 3),
        (Duration::from_millis(7_000), 1, 5),
    ];
    for (at, conns, reqs) in phases {
        wait_until(start, at);
        traffic([&hap, &lbd], conns, reqs);
        let when = format!("after {conns}x{reqs} at {} ms", start.elapsed().as_millis());
        differences.extend(compare(&lbd, &hap, &when));
    }
    assert!(
        differences.is_empty(),
        "lbd's stick counters differ from HAProxy's:\n{}",
        differences.join("\n")
    );
}
