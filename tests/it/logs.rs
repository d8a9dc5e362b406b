//! Traffic logs of the real binary: `option httplog` to stdout, `option
//! tcplog` and the default line to a UDP syslog listener.

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::harness::{Proc, Scratch, eventually, lbd_bin, wait_listening};
use crate::servers::{self, DEFAULTS, connect, get, ports};

/// lbd running on `cfg` with its stdout lines collected.
struct Logged {
    _proc: Proc,
    _dir: Scratch,
    lines: Arc<Mutex<Vec<String>>>,
}

fn start_logged(label: &str, cfg: &str, port: u16) -> Logged {
    let dir = Scratch::new(label);
    let path = dir.write("lb.cfg", cfg);
    let mut proc = Proc::spawn(
        "lbd",
        Command::new(lbd_bin())
            .arg("-f")
            .arg(&path)
            .current_dir(&dir.path)
            .stdout(Stdio::piped()),
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
    assert!(wait_listening(port), "lbd did not listen on {port}:\n{cfg}");
    Logged {
        _proc: proc,
        _dir: dir,
        lines,
    }
}

#[test]
fn httplog_to_stdout_gives_one_line_per_request() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    // `dontlognull` leaves out the readiness probe (a connection that sends
    // nothing), so the request below is the only line.
    let cfg = format!(
        "global\n    log stdout format raw local0\n{DEFAULTS}    mode http\nfrontend web\n    bind 127.0.0.1:{p}\n    log global\n    option httplog\n    option dontlognull\n    default_backend app\nbackend app\n    server s1 127.0.0.1:{s}\n"
    );
    let lbd = start_logged("httplog", &cfg, p);
    let resp = get(p, "/hello?x=1").unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.status, 200);
    let lines = eventually(100, Duration::from_millis(50), || {
        let l = lbd.lines.lock().clone();
        (!l.is_empty()).then_some(l)
    })
    .unwrap_or_else(|| panic!("nothing logged on stdout"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    let f: Vec<&str> = line.split(' ').collect();
    assert!(f[0].starts_with("127.0.0.1:"), "{line}");
    assert!(f[1].starts_with('[') && f[1].ends_with(']'), "{line}");
    assert_eq!(&f[2..4], ["web", "app/s1"], "{line}");
    let timers: Vec<i64> = f[4].split('/').filter_map(|t| t.parse().ok()).collect();
    assert_eq!(timers.len(), 5, "{line}");
    assert!(timers.iter().all(|&t| t >= 0), "{line}");
    assert_eq!(f[5], "200", "{line}");
    assert!(f[6].parse::<u64>().is_ok_and(|b| b > 0), "{line}");
    assert_eq!(&f[7..10], ["-", "-", "----"], "{line}");
    assert_eq!(f[11], "0/0", "{line}");
    assert!(line.ends_with(" \"GET /hello?x=1 HTTP/1.1\""), "{line}");
}

#[test]
fn without_a_log_line_nothing_is_logged() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let cfg = format!(
        "{DEFAULTS}    mode http\nfrontend web\n    bind 127.0.0.1:{p}\n    option httplog\n    default_backend app\nbackend app\n    server s1 127.0.0.1:{s}\n"
    );
    let lbd = start_logged("nolog", &cfg, p);
    let resp = get(p, "/").unwrap_or_else(|| panic!("no response"));
    assert_eq!(resp.status, 200);
    assert!(lbd.lines.lock().is_empty());
}

#[test]
fn tcplog_and_connect_lines_go_to_udp_syslog() {
    let [p, q, s] = ports::<3>();
    let _back = servers::tcp_echo("s", s);
    let syslog = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind udp: {e}"));
    syslog
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("{e}"));
    let port = syslog.local_addr().map(|a| a.port()).unwrap_or(0);
    let cfg = format!(
        "global\n    log 127.0.0.1:{port} local0\n{DEFAULTS}    mode tcp\nfrontend tl\n    bind 127.0.0.1:{p}\n    log global\n    option tcplog\n    option dontlognull\n    default_backend echo\nfrontend plain\n    bind 127.0.0.1:{q}\n    log global\n    default_backend echo\nbackend echo\n    server s1 127.0.0.1:{s}\n"
    );
    let _lbd = start_logged("tcplog", &cfg, p);
    let mut c = connect(p);
    c.write_all(b"ping").unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 4];
    std::io::Read::read_exact(&mut c, &mut buf).unwrap_or_else(|e| panic!("{e}"));
    drop(c);
    let mut dgram = [0u8; 2048];
    let n = syslog
        .recv(&mut dgram)
        .unwrap_or_else(|e| panic!("no syslog message: {e}"));
    let msg = String::from_utf8_lossy(&dgram[..n]).into_owned();
    // <PRI> = local0 (16) * 8 + info (6); then "Mmm dd hh:mm:ss tag[pid]: ".
    assert!(msg.starts_with("<134>"), "{msg}");
    let (header, line) = msg
        .split_once("]: ")
        .unwrap_or_else(|| panic!("no tag in {msg}"));
    assert!(header.contains(" lbd["), "{msg}");
    let f: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(f.len(), 9, "{line}");
    assert_eq!(f[8], "0/0", "{line}");
    assert_eq!(&f[2..4], ["tl", "echo/s1"], "{line}");
    assert_eq!(f[4].split('/').count(), 3, "{line}");
    assert_eq!(f[5], "4", "{line}");
    assert_eq!(f[6], "--", "{line}");

    // Without `option tcplog`: one `Connect from` line at accept.
    let c = connect(q);
    let local = c.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let n = syslog
        .recv(&mut dgram)
        .unwrap_or_else(|e| panic!("no syslog message: {e}"));
    let msg = String::from_utf8_lossy(&dgram[..n]).into_owned();
    assert!(
        msg.ends_with(&format!(
            "]: Connect from {local} to 127.0.0.1:{q} (plain/TCP)\n"
        )),
        "{msg}"
    );
}
