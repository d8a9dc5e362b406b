//! `show sess` on the real `lbd` binary: one line per live stream (a `mode
//! tcp` tunnel, an HTTP request waiting for a slow server), then the CLI's
//! own, and the lines go when the streams end.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use super::traffic::lbd_serving;
use super::*;
use crate::harness::{eventually, free_port, wait_listening};

/// An origin serving every connection on a thread of its own. For HTTP it
/// reads a head, says so, and answers (keep-alive) once released; for a
/// tunnel it says so at the first bytes and holds the connection until the
/// peer closes. Readiness probes send nothing and are not reported.
fn origin(http: bool) -> (u16, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an origin");
    let port = listener.local_addr().expect("origin addr").port();
    let (got_tx, got_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(parking_lot::Mutex::new(release_rx));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (got_tx, release_rx) = (got_tx.clone(), Arc::clone(&release_rx));
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                if http {
                    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1)
                    {
                        head.push(byte[0]);
                    }
                    if !head.ends_with(b"\r\n\r\n") {
                        return;
                    }
                    got_tx.send(()).ok();
                    release_rx.lock().recv().ok();
                    conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .ok();
                } else if conn.read(&mut byte).is_ok_and(|n| n == 1) {
                    got_tx.send(()).ok();
                }
                while conn.read(&mut byte).is_ok_and(|n| n > 0) {}
            });
        }
    });
    (port, got_rx, release_tx)
}

/// The `show sess` line of the stream from client address `src`.
fn line_of(sess: &str, src: SocketAddr) -> Option<String> {
    let want = format!(" src={src} ");
    sess.lines().find(|l| l.contains(&want)).map(str::to_string)
}

/// The value of `field=` in a line (up to the next space).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {name}="))? + name.len() + 2;
    line[at..].split(' ').next()
}

/// The `fd=` of `scf=[..]` or `scb=[..]`.
fn fd_of(line: &str, side: &str) -> Option<i32> {
    let inner = field(line, side)?;
    inner
        .trim_start_matches('[')
        .trim_end_matches(']')
        .rsplit("fd=")
        .next()?
        .parse()
        .ok()
}

#[test]
fn show_sess_lists_a_tunnel_and_a_waiting_request_then_forgets_them() {
    if skip_without("socat") {
        return;
    }
    let (web_port, web_got, web_release) = origin(true);
    let (hold_port, hold_got, _hold_release) = origin(false);
    let (www, tun) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket @SOCK@ mode 600 level admin\n\n\
         defaults\n    timeout connect 2s\n    timeout client 30s\n    timeout server 20s\n\n\
         frontend www\n    mode http\n    bind 127.0.0.1:{www}\n    default_backend slow\n\n\
         frontend tun\n    mode tcp\n    bind 127.0.0.1:{tun}\n    default_backend hold\n\n\
         backend slow\n    mode http\n    server s1 127.0.0.1:{web_port}\n\n\
         backend hold\n    mode tcp\n    timeout tunnel 1h\n    server h1 127.0.0.1:{hold_port}\n"
    );
    let dir = Scratch::new("api-lbd-sess");
    let Some((_lbd, sock)) = lbd_serving(&dir, &cfg) else {
        return;
    };
    assert!(wait_listening(www) && wait_listening(tun));
    // The readiness probes are gone before the streams under test start.
    let idle = eventually(100, Duration::from_millis(50), || {
        let sess = socat(&sock, "show sess\n");
        (sess.lines().filter(|l| !l.is_empty()).count() == 1).then_some(sess)
    });
    let idle = idle.expect("only the CLI's own stream is listed at rest");
    assert!(
        idle.contains(": proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> "),
        "{idle}"
    );

    let mut tunnel = TcpStream::connect(("127.0.0.1", tun)).expect("connect the tunnel");
    tunnel.write_all(b"hello").expect("write into the tunnel");
    hold_got
        .recv_timeout(Duration::from_secs(5))
        .expect("the tunnel reaches its server");
    let mut request = TcpStream::connect(("127.0.0.1", www)).expect("connect www");
    request
        .write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("send a request");
    web_got
        .recv_timeout(Duration::from_secs(5))
        .expect("the request reaches its server");

    let tunnel_src = tunnel.local_addr().expect("tunnel addr");
    let request_src = request.local_addr().expect("request addr");
    let sess = eventually(50, Duration::from_millis(50), || {
        let sess = socat(&sock, "show sess\n");
        (line_of(&sess, tunnel_src).is_some_and(|l| l.contains(" srv=h1 "))
            && line_of(&sess, request_src).is_some_and(|l| l.contains(" srv=s1 ")))
        .then_some(sess)
    })
    .unwrap_or_else(|| socat(&sock, "show sess\n"));
    let lines: Vec<&str> = sess.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{sess}");
    assert!(
        lines[2].contains(" fe=GLOBAL "),
        "the CLI's line comes last: {sess}"
    );
    let t = line_of(&sess, tunnel_src).expect("the tunnel is listed");
    let r = line_of(&sess, request_src).expect("the request is listed");
    for (line, fe, be, srv) in [(&t, "tun", "hold", "h1"), (&r, "www", "slow", "s1")] {
        assert!(line.starts_with("0x"), "{line}");
        assert_eq!(field(line, "proto"), Some("tcpv4"), "{line}");
        assert_eq!(field(line, "fe"), Some(fe), "{line}");
        assert_eq!(field(line, "be"), Some(be), "{line}");
        assert_eq!(field(line, "srv"), Some(srv), "{line}");
        assert!(
            matches!(field(line, "age"), Some("0s" | "1s" | "2s")),
            "{line}"
        );
        assert!(fd_of(line, "scf").is_some_and(|fd| fd > 2), "{line}");
        assert!(fd_of(line, "scb").is_some_and(|fd| fd > 2), "{line}");
        assert!(line.ends_with(" rc=0 c_exp="), "{line}");
    }
    // The tunnel waits for its idle timeout, the request for the server.
    assert!(
        field(&t, "exp").is_some_and(|e| e.starts_with("59m")),
        "{t}"
    );
    assert!(
        field(&r, "exp").is_some_and(|e| e.ends_with('s') && e.len() <= 3),
        "{r}"
    );

    // One stream by its id; an unknown id.
    let id = t.split(':').next().expect("an id");
    let one = socat(&sock, &format!("show sess {id}\n"));
    assert!(one.starts_with(&format!("{id}: [")), "{one}");
    assert!(one.contains(&format!(" source={tunnel_src}\n")), "{one}");
    assert!(one.contains("  frontend=tun (id="), "{one}");
    assert!(
        one.contains(&format!("  server=h1 (id=1) addr=127.0.0.1:{hold_port}\n")),
        "{one}"
    );
    assert_eq!(socat(&sock, "show sess 0x1\n"), "Session not found.\n\n");
    let all = socat(&sock, "show sess all\n");
    let heads: Vec<&str> = all.lines().filter(|l| l.starts_with("0x")).collect();
    assert_eq!(heads.len(), 3, "{all}");
    assert!(
        heads[2].ends_with(" proto=unix_stream source=unix:1"),
        "{all}"
    );

    // The answer ends the request's stream; its connection stays open for
    // the next one, unlisted, as in HAProxy.
    web_release.send(()).expect("release the answer");
    let mut answer = [0u8; 64];
    let mut got = 0;
    while !answer[..got].ends_with(b"ok") {
        let n = request.read(&mut answer[got..]).expect("read the answer");
        assert!(n > 0, "the answer comes");
        got += n;
    }
    let after = eventually(50, Duration::from_millis(50), || {
        let sess = socat(&sock, "show sess\n");
        line_of(&sess, request_src).is_none().then_some(sess)
    });
    let after = after.expect("the finished request is no longer listed");
    assert!(line_of(&after, tunnel_src).is_some(), "{after}");

    // `shutdown session` ends the tunnel; the client sees it close.
    assert_eq!(
        socat(&sock, "shutdown session\n"),
        "Session pointer expected (use 'show sess').\n\n"
    );
    assert_eq!(
        socat(&sock, "shutdown session 0x1\n"),
        "No such session (use 'show sess').\n\n"
    );
    assert_eq!(socat(&sock, &format!("shutdown session {id}\n")), "\n");
    tunnel
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a read timeout");
    let mut rest = [0u8; 16];
    assert!(
        matches!(tunnel.read(&mut rest), Ok(0) | Err(_)),
        "the killed tunnel is closed"
    );
    let gone = eventually(50, Duration::from_millis(50), || {
        let sess = socat(&sock, "show sess\n");
        (sess.lines().filter(|l| !l.is_empty()).count() == 1).then_some(sess)
    });
    assert!(gone.is_some(), "closed streams disappear");
    drop((tunnel, request));
}

/// The field names of each `show sess` line after its id, by frontend:
/// the shape tools that split the line rely on.
fn sess_shape(sess: &str) -> Vec<(String, Vec<String>)> {
    let mut shape: Vec<(String, Vec<String>)> = sess
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let fe = field(l, "fe").unwrap_or("?").to_string();
            let names = l
                .split(' ')
                .skip(1)
                .map(|w| w.split('=').next().unwrap_or(w).to_string())
                .collect();
            (fe, names)
        })
        .collect();
    shape.sort();
    shape
}

#[test]
fn show_sess_lines_have_haproxys_fields() {
    if skip_without("socat") || skip_without("haproxy") {
        return;
    }
    let (web_port, web_got, _web_release) = origin(true);
    let (hold_port, hold_got, _hold_release) = origin(false);
    let cfg = |www: u16, tun: u16| {
        format!(
            "global\n    stats socket @SOCK@ mode 600 level admin\n\n\
             defaults\n    timeout connect 2s\n    timeout client 30s\n    timeout server 20s\n\n\
             frontend www\n    mode http\n    bind 127.0.0.1:{www}\n    default_backend slow\n\n\
             frontend tun\n    mode tcp\n    bind 127.0.0.1:{tun}\n    default_backend hold\n\n\
             backend slow\n    mode http\n    server s1 127.0.0.1:{web_port}\n\n\
             backend hold\n    mode tcp\n    timeout tunnel 1h\n    server h1 127.0.0.1:{hold_port}\n"
        )
    };
    // HAProxy.
    let (hap_www, hap_tun) = (free_port(), free_port());
    let hap_dir = Scratch::new("api-sess-haproxy");
    let (_haproxy, hap_sock) = start_haproxy(&hap_dir, &cfg(hap_www, hap_tun));
    // lbd.
    let (lbd_www, lbd_tun) = (free_port(), free_port());
    let dir = Scratch::new("api-sess-lbd");
    let Some((_lbd, lbd_sock)) = lbd_serving(&dir, &cfg(lbd_www, lbd_tun)) else {
        return;
    };
    assert!(wait_listening(lbd_www) && wait_listening(lbd_tun));
    assert!(wait_listening(hap_www) && wait_listening(hap_tun));

    let mut held = Vec::new();
    let mut shapes = Vec::new();
    for ((www, tun), sock) in [
        ((hap_www, hap_tun), &hap_sock),
        ((lbd_www, lbd_tun), &lbd_sock),
    ] {
        let mut tunnel = TcpStream::connect(("127.0.0.1", tun)).expect("connect the tunnel");
        tunnel.write_all(b"hello").expect("write into the tunnel");
        hold_got
            .recv_timeout(Duration::from_secs(5))
            .expect("the tunnel reaches its server");
        let mut request = TcpStream::connect(("127.0.0.1", www)).expect("connect www");
        request
            .write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
            .expect("send a request");
        web_got
            .recv_timeout(Duration::from_secs(5))
            .expect("the request reaches its server");
        let sess = eventually(50, Duration::from_millis(50), || {
            let sess = socat(sock, "show sess\n");
            (sess.lines().filter(|l| !l.is_empty()).count() == 3).then_some(sess)
        })
        .unwrap_or_else(|| socat(sock, "show sess\n"));
        shapes.push((sess.clone(), sess_shape(&sess)));
        held.push((tunnel, request));
    }
    let (hap, lbd) = (&shapes[0], &shapes[1]);
    assert_eq!(
        hap.1.len(),
        3,
        "a tunnel, a request and the CLI:\n{}",
        hap.0
    );
    assert_eq!(lbd.1, hap.1, "haproxy:\n{}\nlbd:\n{}", hap.0, lbd.0);
}
