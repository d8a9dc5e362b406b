//! The clients operators use: prometheus-haproxy-exporter and hatop.

use super::*;

#[test]
fn prometheus_haproxy_exporter_scrapes_the_socket() {
    if skip_without("prometheus-haproxy-exporter") {
        return;
    }
    use crate::harness::{Proc, eventually, free_port};
    use std::time::Duration;
    let api = Api::start("api-exporter", &weights_cfg());
    assert_eq!(api.cmd("set server app/web2 state maint"), "\n");
    let port = free_port();
    let _exporter = Proc::spawn(
        "prometheus-haproxy-exporter",
        Command::new("prometheus-haproxy-exporter")
            .arg(format!("--haproxy.scrape-uri=unix:{}", api.sock.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let metrics = eventually(100, Duration::from_millis(100), || {
        http_get(port, "/metrics").filter(|m| m.contains("haproxy_up"))
    })
    .expect("the exporter serves /metrics");
    for want in [
        "haproxy_up 1\n",
        "haproxy_exporter_csv_parse_failures_total 0\n",
        "haproxy_server_up{backend=\"app\",server=\"web1\"} 1\n",
        "haproxy_server_up{backend=\"app\",server=\"web2\"} 0\n",
        "haproxy_server_up{backend=\"app\",server=\"web3\"} 1\n",
        "haproxy_server_weight{backend=\"app\",server=\"web3\"} 30\n",
        "haproxy_backend_up{backend=\"app\"} 1\n",
        "haproxy_backend_weight{backend=\"app\"} 40\n",
        "haproxy_frontend_current_sessions{frontend=\"www\"} 0\n",
        "haproxy_version_info{release_date=",
    ] {
        assert!(
            metrics.contains(want),
            "/metrics lacks {want:?}:\n{metrics}"
        );
    }
    api.stop();
}

/// A tmux server of its own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn hatop_lists_every_backend_and_server() {
    if skip_without("hatop") || skip_without("tmux") {
        return;
    }
    use crate::harness::eventually;
    use std::time::Duration;
    let api = Api::start("api-hatop", &weights_cfg());
    let tmux = Tmux {
        socket: format!("lbd-it-{}", std::process::id()),
    };
    let cmd = format!("hatop -s {} -i 1", api.sock.display());
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "hatop",
        "-x",
        "132",
        "-y",
        "40",
        &cmd,
    ]);
    let screen = eventually(60, Duration::from_millis(250), || {
        let s = tmux.run(&["capture-pane", "-p", "-t", "hatop"]);
        s.contains("BACKEND").then_some(s)
    })
    .expect("hatop shows the proxies");
    for want in [
        ">>> www",
        ">>> app",
        "FRONTEND",
        "web1",
        "web2",
        "web3",
        "BACKEND",
        "Version: ",
    ] {
        assert!(
            screen.contains(want),
            "hatop screen lacks {want:?}:\n{screen}"
        );
    }
    assert!(!screen.contains("Traceback"), "{screen}");
    // The CLI mode (5) runs a command on hatop's interactive connection.
    tmux.run(&["send-keys", "-t", "hatop", "5"]);
    tmux.run(&["send-keys", "-t", "hatop", "get weight app/web2", "Enter"]);
    let cli = eventually(40, Duration::from_millis(250), || {
        let s = tmux.run(&["capture-pane", "-p", "-t", "hatop"]);
        s.contains("20 (initial 20)").then_some(s)
    });
    assert!(cli.is_some(), "hatop's CLI mode shows the answer");
    tmux.run(&["send-keys", "-t", "hatop", "q"]);
    api.stop();
}
