//! Failed connects, retries, byte counts and per-request times on HAProxy
//! and lbd: the same config and traffic, then the same `option httplog` /
//! `option tcplog` lines (timers within a tolerance, every other field
//! exact) and the same `show stat` timing columns.
//!
//! lbd's own lines are checked against the values HAProxy 2.6 printed for
//! this config even when `haproxy` is not installed; the side-by-side part
//! is skipped (with a printed reason) then.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::api::{skip_without, socat};
use crate::harness::{Proc, Scratch, eventually, free_port, have, lbd_bin, wait_listening};
use crate::servers::{self, SLOW_MS, get};

/// Backend ports shared by both sides: one live server, one slow one, two
/// closed ports.
#[derive(Clone, Copy)]
struct Origins {
    live: u16,
    slow: u16,
    dead1: u16,
    dead2: u16,
}

fn timings_cfg(sock: &Path, web: u16, tcp: u16, o: Origins) -> String {
    let Origins {
        live,
        slow,
        dead1,
        dead2,
    } = o;
    format!(
        "global\n    log stdout format raw local0\n    stats socket {sock} mode 600 level admin\n\n\
         defaults\n    mode http\n    log global\n    option httplog\n    option dontlognull\n\
         \x20   timeout connect 200ms\n    timeout client 5s\n    timeout server 5s\n\n\
         frontend web\n    bind 127.0.0.1:{web}\n\
         \x20   timeout tarpit 100ms\n\
         \x20   http-request tarpit if {{ path_beg /tarpit }}\n\
         \x20   use_backend dead if {{ path_beg /dead }}\n\
         \x20   use_backend spread if {{ path_beg /spread }}\n\
         \x20   use_backend slow if {{ path_beg /slow }}\n\
         \x20   use_backend q if {{ path_beg /q }}\n\
         \x20   default_backend live\n\n\
         frontend tcpfe\n    mode tcp\n    option tcplog\n    bind 127.0.0.1:{tcp}\n    default_backend tdead\n\n\
         backend live\n    server s1 127.0.0.1:{live}\n\n\
         backend slow\n    server s1 127.0.0.1:{slow}\n\n\
         backend q\n    timeout queue 75ms\n    server s1 127.0.0.1:{slow} maxconn 1\n\n\
         backend dead\n    retries 2\n    server d1 127.0.0.1:{dead1}\n\n\
         backend spread\n    option redispatch\n    retries 2\n    server d1 127.0.0.1:{dead1}\n    server d2 127.0.0.1:{dead2}\n\n\
         backend tdead\n    mode tcp\n    retries 1\n    server t1 127.0.0.1:{dead1}\n",
        sock = sock.display()
    )
}

/// One side: a process on the config, its ports, socket and stdout lines.
struct Side {
    name: &'static str,
    web: u16,
    tcp: u16,
    sock: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    _proc: Proc,
    _dir: Scratch,
}

impl Side {
    fn start(name: &'static str, program: &Path, extra: &[&str], o: Origins) -> Side {
        let dir = Scratch::new(&format!("vs-timings-{name}"));
        let sock = dir.path.join("admin.sock");
        let (web, tcp) = (free_port(), free_port());
        let cfg = dir.write("timings.cfg", &timings_cfg(&sock, web, tcp, o));
        let mut proc = Proc::spawn(
            name,
            Command::new(program)
                .args(extra)
                .arg("-f")
                .arg(&cfg)
                .current_dir(&dir.path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = proc.child.stdout.take() {
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    sink.lock().push(line);
                }
            });
        }
        assert!(wait_listening(web), "{name} did not listen on {web}");
        assert!(
            eventually(100, Duration::from_millis(50), || sock
                .exists()
                .then_some(()))
            .is_some(),
            "{name} did not open its stats socket"
        );
        Side {
            name,
            web,
            tcp,
            sock,
            lines,
            _proc: proc,
            _dir: dir,
        }
    }

    /// Waits (bounded) for `n` log lines.
    fn wait_lines(&self, n: usize) -> Vec<String> {
        let got = eventually(100, Duration::from_millis(50), || {
            let l = self.lines.lock().clone();
            (l.len() >= n).then_some(l)
        });
        got.unwrap_or_else(|| {
            panic!(
                "{}: expected {n} log lines, got {:#?}",
                self.name,
                self.lines.lock()
            )
        })
    }

    /// `show stat` rows as (pxname/svname, column name -> value).
    fn stat(&self) -> Vec<(String, Vec<(String, String)>)> {
        let csv = socat(&self.sock, "show stat\n");
        let mut rows = csv.lines();
        let header: Vec<String> = rows
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .map(String::from)
            .collect();
        rows.filter(|l| !l.is_empty())
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                let key = format!("{}/{}", cells[0], cells.get(1).unwrap_or(&""));
                let named = header
                    .iter()
                    .zip(&cells)
                    .map(|(h, c)| (h.clone(), (*c).to_string()))
                    .collect();
                (key, named)
            })
            .collect()
    }
}

/// The value of column `col` in row `row` of a `show stat` answer.
fn cell(stat: &[(String, Vec<(String, String)>)], row: &str, col: &str) -> u64 {
    stat.iter()
        .find(|(k, _)| k == row)
        .and_then(|(_, cells)| cells.iter().find(|(h, _)| h == col))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {col} in row {row}"))
}

/// The traffic: one served request, one to a closed port (2 retries, 200 ms
/// apart), one redispatched between two closed ports, one TCP session to a
/// closed port.
fn failing_traffic(side: &Side) {
    for path in ["/live", "/dead", "/spread", "/tarpit"] {
        let r = get(side.web, path).unwrap_or_else(|| panic!("{}: no answer to {path}", side.name));
        let want = match path {
            "/live" => 200,
            "/tarpit" => 500,
            _ => 503,
        };
        assert_eq!(r.status, want, "{}: {path}", side.name);
    }
    let mut c = servers::connect(side.tcp);
    c.write_all(b"hello")
        .unwrap_or_else(|e| panic!("{}: tcp write: {e}", side.name));
    let mut sink = Vec::new();
    // The proxy closes once its retries are spent.
    let _ = c.read_to_end(&mut sink);
}

/// The log line of `side` whose 4th field (backend/server) starts with
/// `backend/`.
fn line_of<'a>(lines: &'a [String], backend: &str) -> &'a str {
    lines
        .iter()
        .find(|l| {
            l.split(' ')
                .nth(3)
                .is_some_and(|f| f.starts_with(&format!("{backend}/")))
        })
        .unwrap_or_else(|| panic!("no line for backend {backend} in {lines:#?}"))
}

/// Whether two timer fields agree: the same `-1`s, other values within
/// `slack` ms.
fn timers_agree(a: &str, b: &str, slack: i64) -> bool {
    let parse = |t: &str| -> Vec<i64> { t.split('/').filter_map(|v| v.parse().ok()).collect() };
    let (x, y) = (parse(a), parse(b));
    x.len() == y.len()
        && x.iter()
            .zip(&y)
            .all(|(&p, &q)| (p == -1) == (q == -1) && (p - q).abs() <= slack)
}

/// Fields 2.. of two log lines agree (client and date aside): timers
/// within `slack`, of the connection counts only the retries (the others
/// depend on when earlier connections finished closing), everything else
/// byte for byte.
fn lines_agree(ours: &str, theirs: &str, timer_field: usize, slack: i64) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.split(' ').collect(), theirs.split(' ').collect());
    // `act/fe/be/srv/retries` comes 4 (HTTP) or 3 (TCP) fields after the timers.
    let conns_field = if a.len() > 12 {
        timer_field + 6
    } else {
        timer_field + 3
    };
    let retries = |f: &str| f.rsplit('/').next().map(String::from);
    a.len() == b.len()
        && a.iter().zip(&b).enumerate().skip(2).all(|(i, (x, y))| {
            if i == timer_field {
                timers_agree(x, y, slack)
            } else if i == conns_field {
                retries(x) == retries(y)
            } else {
                x == y
            }
        })
}

/// lbd's lines hold what HAProxy 2.6 prints for this traffic: the server
/// tried, the retries (`+` when redispatched), `SC` and `-1` for the
/// phases that never happened, and bytes counted as HAProxy counts them.
fn assert_lbd_lines(lines: &[String]) {
    let dead: Vec<&str> = line_of(lines, "dead").split(' ').collect();
    assert_eq!(dead[3], "dead/d1", "{dead:?}");
    let t: Vec<i64> = dead[4].split('/').filter_map(|v| v.parse().ok()).collect();
    // Assigned at once (a millisecond tick may pass), never connected.
    assert!(t[0] <= 2 && t[1] <= 2 && t[2..4] == [-1, -1], "{dead:?}");
    // Two turn-arounds of min(timeout connect, 1 s) = 200 ms.
    assert!((390..1_000).contains(&t[4]), "{dead:?}");
    assert_eq!(&dead[5..10], ["503", "217", "-", "-", "SC--"], "{dead:?}");
    assert!(dead[10].ends_with("/2"), "{dead:?}");

    let spread: Vec<&str> = line_of(lines, "spread").split(' ').collect();
    assert!(
        spread[3] == "spread/d1" || spread[3] == "spread/d2",
        "{spread:?}"
    );
    // Each redispatch assigns again, so `Tw` runs to the last one.
    let t: Vec<i64> = spread[4]
        .split('/')
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(t[0] <= 2 && t[1] <= 5 && t[2..4] == [-1, -1], "{spread:?}");
    assert_eq!(
        &spread[5..10],
        ["503", "217", "-", "-", "SC--"],
        "{spread:?}"
    );
    assert!(spread[10].ends_with("/+2"), "{spread:?}");

    // HAProxy logged 78 for this answer (75 bytes from the server): 20, the
    // status line's words (13), `Content-Length: 8` (15), `X-Body-Len: 0`
    // (11), an empty `X-Seen-XFF` (10), 1, and the body "s1 /live" (8).
    let live: Vec<&str> = line_of(lines, "live").split(' ').collect();
    assert_eq!(&live[3..4], ["live/s1"], "{live:?}");
    assert_eq!(&live[5..7], ["200", "78"], "{live:?}");

    // A tarpitted request has no request time and its wait as `Tw`.
    let tarpit: Vec<&str> = line_of(lines, "web").split(' ').collect();
    assert_eq!(tarpit[3], "web/<NOSRV>", "{tarpit:?}");
    let t: Vec<i64> = tarpit[4]
        .split('/')
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(t[0] == -1 && (100..300).contains(&t[1]), "{tarpit:?}");
    assert_eq!(
        &tarpit[5..10],
        ["500", "208", "-", "-", "PT--"],
        "{tarpit:?}"
    );

    // tcplog: `Tw/Tc/Tt`; HAProxy's Tw counts from 1 ms before the start.
    let tcp: Vec<&str> = line_of(lines, "tdead").split(' ').collect();
    assert_eq!(tcp[3], "tdead/t1", "{tcp:?}");
    let t: Vec<i64> = tcp[4].split('/').filter_map(|v| v.parse().ok()).collect();
    assert!((1..=3).contains(&t[0]) && t[1] == -1, "{tcp:?}");
    assert_eq!(&tcp[5..7], ["0", "SC"], "{tcp:?}");
    assert!(tcp[7].ends_with("/1"), "{tcp:?}");
}

#[test]
fn failed_connects_log_server_retries_flags_and_bytes_like_haproxy() {
    if skip_without("socat") {
        return;
    }
    let o = Origins {
        live: free_port(),
        slow: free_port(),
        dead1: free_port(),
        dead2: free_port(),
    };
    let _live = servers::http("s1", o.live);
    let lbd = Side::start("lbd", &lbd_bin(), &[], o);
    failing_traffic(&lbd);
    let ours = lbd.wait_lines(5);
    assert_lbd_lines(&ours);

    if !have("haproxy") {
        eprintln!("skipped the side-by-side part: haproxy is not installed");
        return;
    }
    let hap = Side::start("haproxy", Path::new("haproxy"), &["-db"], o);
    failing_traffic(&hap);
    let theirs = hap.wait_lines(5);
    let mut differences = Vec::new();
    for (backend, timer_field) in [
        ("live", 4),
        ("dead", 4),
        ("spread", 4),
        ("tdead", 4),
        ("web", 4),
    ] {
        let (a, b) = (line_of(&ours, backend), line_of(&theirs, backend));
        if !lines_agree(a, b, timer_field, 100) {
            differences.push(format!("  lbd:     {a}\n  haproxy: {b}"));
        }
    }
    assert!(
        differences.is_empty(),
        "lbd's log lines differ from HAProxy's:\n{}",
        differences.join("\n")
    );
}

/// Sends `n` requests to the slow backend and one each to the dead ones.
fn timed_traffic(side: &Side, n: usize) {
    for _ in 0..n {
        let r = get(side.web, "/slow").unwrap_or_else(|| panic!("{}: no answer", side.name));
        assert_eq!(r.status, 200, "{}", side.name);
    }
    for path in ["/dead", "/spread"] {
        let r = get(side.web, path).unwrap_or_else(|| panic!("{}: no answer", side.name));
        assert_eq!(r.status, 503, "{}", side.name);
    }
}

const TIME_COLS: [&str; 8] = [
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
];

/// What `show stat` must say after [`timed_traffic`] whoever serves it:
/// the slow server's response and total times (averages and maxima) are at
/// least its think time, the total at least the response, and backends
/// whose connects all failed have no sample at all.
fn time_story(stat: &[(String, Vec<(String, String)>)], side: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    for row in ["slow/s1", "slow/BACKEND"] {
        let v = |c: &str| cell(stat, row, c);
        for c in ["rtime", "ttime", "rtime_max", "ttime_max"] {
            if v(c) + 2 < SLOW_MS {
                wrong.push(format!("{side}: {row} {c} {} < {SLOW_MS}", v(c)));
            }
        }
        if v("ttime") < v("rtime") || v("ttime_max") < v("rtime_max") {
            wrong.push(format!("{side}: {row} ttime below rtime"));
        }
    }
    for row in ["dead/d1", "dead/BACKEND", "spread/BACKEND"] {
        for c in TIME_COLS {
            if cell(stat, row, c) != 0 {
                wrong.push(format!("{side}: {row} {c} is not 0"));
            }
        }
    }
    wrong
}

/// `show stat` after requests to a server that thinks 50 ms: the response
/// and total times read about 50 ms (averages and maxima), the queue and
/// connect times about 0, and backends whose connects all failed have no
/// sample. Retry and error counters match HAProxy exactly.
#[test]
fn show_stat_times_follow_a_slow_server_like_haproxy() {
    if skip_without("socat") {
        return;
    }
    let o = Origins {
        live: free_port(),
        slow: free_port(),
        dead1: free_port(),
        dead2: free_port(),
    };
    let _slow = servers::slow_http("s1", o.slow);
    let lbd = Side::start("lbd", &lbd_bin(), &[], o);
    timed_traffic(&lbd, 3);
    // The sample is taken when the stream ends, just after its answer.
    let ours = eventually(50, Duration::from_millis(50), || {
        let s = lbd.stat();
        (cell(&s, "slow/BACKEND", "ttime") > 0).then_some(s)
    })
    .unwrap_or_else(|| panic!("ttime stayed 0:\n{}", socat(&lbd.sock, "show stat\n")));
    let think = SLOW_MS;
    for row in ["slow/s1", "slow/BACKEND"] {
        let v = |c: &str| cell(&ours, row, c);
        assert!(
            (think..think + 250).contains(&v("rtime")),
            "{row} rtime {}",
            v("rtime")
        );
        assert!(v("ttime") >= v("rtime"), "{row}");
        assert!(
            v("rtime_max") >= think && v("ttime_max") >= v("rtime_max"),
            "{row}"
        );
        // Nothing queues; a loopback connect takes well under a
        // millisecond (unless the machine is very busy).
        assert!(v("qtime") < think / 2 && v("ctime") < think / 2, "{row}");
        assert!(v("qtime_max") <= v("ttime_max"), "{row}");
    }
    for row in ["dead/d1", "dead/BACKEND", "spread/BACKEND"] {
        for c in TIME_COLS {
            assert_eq!(cell(&ours, row, c), 0, "{row} {c}");
        }
    }

    if !have("haproxy") {
        eprintln!("skipped the side-by-side part: haproxy is not installed");
        return;
    }
    let hap = Side::start("haproxy", Path::new("haproxy"), &["-db"], o);
    timed_traffic(&hap, 3);
    let theirs = eventually(50, Duration::from_millis(50), || {
        let s = hap.stat();
        (cell(&s, "slow/BACKEND", "ttime") > 0).then_some(s)
    })
    .unwrap_or_else(|| panic!("haproxy's ttime stayed 0"));
    let mut differences = Vec::new();
    let rows = [
        "slow/s1",
        "slow/BACKEND",
        "dead/d1",
        "dead/BACKEND",
        "spread/d1",
        "spread/d2",
        "spread/BACKEND",
    ];
    // The values themselves depend on the machine's load (two processes
    // sharing two cores): both sides must tell the same story, and count
    // the same.
    differences.extend(time_story(&ours, "lbd"));
    differences.extend(time_story(&theirs, "haproxy"));
    for row in rows {
        for c in ["stot", "econ", "wretr", "wredis", "lbtot"] {
            let (a, b) = (cell(&ours, row, c), cell(&theirs, row, c));
            if a != b {
                differences.push(format!("{row} {c}: lbd {a}, haproxy {b}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "lbd's show stat differs from HAProxy's:\n{}",
        differences.join("\n")
    );
}

/// Three requests at once to a one-slot server that thinks 50 ms, with a
/// 75 ms queue timeout; returns their log lines sorted by `Tw`.
fn queued_traffic(side: &Side) -> Vec<String> {
    let before = side.lines.lock().len();
    let start = std::sync::Barrier::new(3);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                start.wait();
                let r = get(side.web, "/q");
                assert!(r.is_some(), "{}: no answer from /q", side.name);
            });
        }
    });
    let mut lines: Vec<String> = side.wait_lines(before + 3)[before..].to_vec();
    let tw = |l: &String| -> i64 {
        l.split(' ')
            .nth(4)
            .and_then(|t| t.split('/').nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    };
    lines.sort_by_key(tw);
    lines
}

/// A request that waited logs its wait (`Tw`) and its place in the backend
/// queue; one that waited past `timeout queue` logs `sQ`, `<NOSRV>` and -1
/// for the phases it never reached.
#[test]
fn queued_requests_log_their_wait_and_place_like_haproxy() {
    if skip_without("socat") {
        return;
    }
    let o = Origins {
        live: free_port(),
        slow: free_port(),
        dead1: free_port(),
        dead2: free_port(),
    };
    let _slow = servers::slow_http("s1", o.slow);
    let lbd = Side::start("lbd", &lbd_bin(), &[], o);
    let ours = queued_traffic(&lbd);
    let f: Vec<Vec<&str>> = ours.iter().map(|l| l.split(' ').collect()).collect();
    // Served at once.
    assert_eq!(f[0][3], "q/s1", "{ours:#?}");
    assert_eq!(f[0][11], "0/0", "{ours:#?}");
    // Served after the first: about 50 ms in the queue, first in line.
    assert_eq!(f[1][3], "q/s1", "{ours:#?}");
    let t: Vec<i64> = f[1][4].split('/').filter_map(|v| v.parse().ok()).collect();
    assert!((40..75).contains(&t[1]) && t[2] >= 0, "{ours:#?}");
    assert_eq!(f[1][11], "0/1", "{ours:#?}");
    // Second in line, out of patience at 75 ms.
    assert_eq!(f[2][3], "q/<NOSRV>", "{ours:#?}");
    let t: Vec<i64> = f[2][4].split('/').filter_map(|v| v.parse().ok()).collect();
    assert!(
        (75..150).contains(&t[1]) && t[2..4] == [-1, -1],
        "{ours:#?}"
    );
    assert_eq!(&f[2][5..10], ["503", "217", "-", "-", "sQ--"], "{ours:#?}");
    assert_eq!(f[2][11], "0/2", "{ours:#?}");

    if !have("haproxy") {
        eprintln!("skipped the side-by-side part: haproxy is not installed");
        return;
    }
    let hap = Side::start("haproxy", Path::new("haproxy"), &["-db"], o);
    let theirs = queued_traffic(&hap);
    let differences: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| !lines_agree(a, b, 4, 30))
        .map(|(a, b)| format!("  lbd:     {a}\n  haproxy: {b}"))
        .collect();
    assert!(
        differences.is_empty(),
        "lbd's queue log lines differ from HAProxy's:\n{}",
        differences.join("\n")
    );
}
