//! The real `lbd` binary: traffic through the data plane, steered and
//! observed through the socket.

use super::*;

/// A tiny HTTP origin answering every request with its own name.
struct Origin {
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Origin {
    fn start(name: &'static str) -> Origin {
        use std::io::Read as _;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an origin");
        let port = listener.local_addr().expect("origin addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1)
                    {
                        head.push(byte[0]);
                    }
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                        name.len()
                    );
                    conn.write_all(reply.as_bytes()).ok();
                });
            }
        });
        Origin { port, stop }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        std::net::TcpStream::connect(("127.0.0.1", self.port)).ok();
    }
}

/// `lbd -f <cfg>` with its stats socket up, or `None` (with the reason
/// printed) while this build cannot serve the config yet.
pub(super) fn lbd_serving(dir: &Scratch, cfg: &str) -> Option<(crate::harness::Proc, PathBuf)> {
    use crate::harness::{Proc, check, eventually, lbd_bin};
    use std::time::Duration;
    let sock = dir.path.join("admin.sock");
    let path = dir.write(
        "lb.cfg",
        &cfg.replace("@SOCK@", &sock.display().to_string()),
    );
    let checked = check(&dir.path, &[&path]);
    let why = String::from_utf8_lossy(&checked.stderr);
    if !checked.status.success() && why.contains("not supported by lbd yet") {
        eprintln!("skipped: this build does not compile the config yet:\n{why}");
        return None;
    }
    assert!(checked.status.success(), "lbd -c: {why}");
    let mut lbd = Proc::spawn(
        "lbd",
        Command::new(lbd_bin())
            .arg("-f")
            .arg(&path)
            .current_dir(&dir.path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let up = eventually(100, Duration::from_millis(50), || {
        if lbd.exited() {
            return Some(false);
        }
        sock.exists().then_some(true)
    });
    if up == Some(false) {
        let mut err = String::new();
        if let Some(mut e) = lbd.child.stderr.take() {
            use std::io::Read as _;
            e.read_to_string(&mut err).ok();
        }
        if err.contains("not wired yet") {
            eprintln!("skipped: lbd does not serve traffic yet");
            return None;
        }
        panic!("lbd exited: {err}");
    }
    if up.is_none() {
        eprintln!("skipped: lbd serves but opens no stats socket (api::spawn not wired yet)");
        return None;
    }
    Some((lbd, sock))
}

/// One HTTP request through lbd; the origin's name that answered.
fn through(port: u16) -> Option<String> {
    let reply = http_get(port, "/")?;
    reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn two_origins_cfg(front: u16, a: &Origin, b: &Origin, track: bool) -> String {
    let track = if track {
        "    stick-table type ip size 1k expire 10m store conn_cnt,http_req_cnt\n    tcp-request connection track-sc0 src\n"
    } else {
        ""
    };
    format!(
        "global\n    stats socket @SOCK@ mode 600 level admin\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
         frontend www\n    bind 127.0.0.1:{front}\n{track}    default_backend app\n\n\
         backend app\n    balance roundrobin\n    server a 127.0.0.1:{} weight 1\n    server b 127.0.0.1:{} weight 1\n",
        a.port, b.port
    )
}

fn count(port: u16, n: usize) -> (usize, usize) {
    let mut hits = (0, 0);
    for _ in 0..n {
        match through(port).as_deref() {
            Some("a") => hits.0 += 1,
            Some("b") => hits.1 += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    hits
}

#[test]
fn set_weight_and_disable_server_steer_real_traffic() {
    if skip_without("socat") {
        return;
    }
    let (a, b) = (Origin::start("a"), Origin::start("b"));
    let front = crate::harness::free_port();
    let dir = Scratch::new("api-lbd-weights");
    let Some((_lbd, sock)) = lbd_serving(&dir, &two_origins_cfg(front, &a, &b, false)) else {
        return;
    };
    assert!(crate::harness::wait_listening(front));
    assert_eq!(count(front, 20), (10, 10));
    assert_eq!(socat(&sock, "set weight app/b 3\n"), "\n");
    assert_eq!(count(front, 40), (10, 30));
    assert_eq!(socat(&sock, "disable server app/b\n"), "\n");
    assert_eq!(count(front, 10), (10, 0));
    assert_eq!(
        socat(&sock, "enable server app/b; set weight app/b 100%\n"),
        "\n\n"
    );
    let (to_a, to_b) = count(front, 20);
    assert!(to_b >= 9, "b takes traffic again: {to_a}/{to_b}");
    let stat = socat(&sock, "show stat -1 4 -1\n");
    let lbtot: Vec<u64> = stat
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .nth(30)
                .and_then(|v| v.parse().ok())
                .expect("lbtot")
        })
        .collect();
    assert_eq!(lbtot.iter().sum::<u64>(), 90, "{stat}");
}

#[test]
fn show_table_after_real_traffic() {
    if skip_without("socat") {
        return;
    }
    let (a, b) = (Origin::start("a"), Origin::start("b"));
    let front = crate::harness::free_port();
    let dir = Scratch::new("api-lbd-table");
    let Some((_lbd, sock)) = lbd_serving(&dir, &two_origins_cfg(front, &a, &b, true)) else {
        return;
    };
    assert!(crate::harness::wait_listening(front));
    // The readiness probes are connections too: HAProxy counts them as well.
    let probes = conn_cnt(&socat(&sock, "show table www\n"));
    count(front, 3);
    // Sessions end a moment after their answer: wait until the last one
    // has released the entry.
    let released = crate::servers::wait_for(|| {
        socat(&sock, "show table www\n").contains(": key=127.0.0.1 use=0 exp=")
    });
    let table = socat(&sock, "show table www\n");
    assert!(released, "{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0], "# table: www, type: ip, size:1024, used:1",
        "{table}"
    );
    assert!(lines[1].contains(": key=127.0.0.1 use=0 exp="), "{table}");
    // Three connections, one request each: a tracked entry counts the
    // session's HTTP requests too (`haproxy-cli.md` §5.2).
    assert_eq!(conn_cnt(&table), probes + 3, "{table}");
    assert!(lines[1].ends_with(" http_req_cnt=3"), "{table}");
    assert_eq!(socat(&sock, "clear table www\n"), "\n");
    assert_eq!(
        socat(&sock, "show table www\n"),
        "# table: www, type: ip, size:1024, used:0\n\n"
    );
}

/// The `conn_cnt` of the first entry of a `show table` dump (0 when empty).
fn conn_cnt(table: &str) -> u64 {
    table
        .split_whitespace()
        .find_map(|w| w.strip_prefix("conn_cnt="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn shutdown_sessions_ends_tunnels_to_that_server() {
    use std::io::{Read, Write};
    if skip_without("socat") {
        return;
    }
    let echo_port = crate::harness::free_port();
    let _echo = crate::servers::tcp_echo("echo", echo_port);
    let front = crate::harness::free_port();
    let dir = Scratch::new("api-shutdown-sessions");
    let cfg = format!(
        "global\n    stats socket @SOCK@ mode 600 level admin\n\n\
         defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
         listen echo\n    bind 127.0.0.1:{front}\n    server e1 127.0.0.1:{echo_port}\n"
    );
    let Some((_lbd, sock)) = lbd_serving(&dir, &cfg) else {
        return;
    };
    assert!(crate::harness::wait_listening(front));
    let mut client = crate::servers::connect(front);
    client.write_all(b"ping").expect("send through the tunnel");
    let mut echoed = [0u8; 4];
    client
        .read_exact(&mut echoed)
        .expect("echo through the tunnel");
    assert_eq!(&echoed, b"ping");
    assert_eq!(socat(&sock, "shutdown sessions server echo/e1\n"), "\n");
    // The tunnel is closed by lbd: the client reads end of stream.
    let mut rest = Vec::new();
    let read = client.read_to_end(&mut rest);
    assert!(read.is_ok_and(|n| n == 0), "the session was not shut down");
}
