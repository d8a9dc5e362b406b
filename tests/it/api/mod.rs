//! The runtime API driven with real `socat` (and hatop, and the Prometheus
//! exporter) on a stats socket served in-process by `lbd::api::spawn`, or
//! by the real `lbd` binary for traffic tests. Expected bytes are HAProxy
//! 2.6's (`haproxy-cli.md`).

mod cli;
mod robust;
mod sess;
mod stat;
mod tables;
mod tools;
mod traffic;
mod vs_haproxy;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use lbd::api::{self, ApiHandle};
use lbd::compile::program::Program;
use lbd::stick::Tables;

use crate::harness::{Scratch, have};

/// A program with its API serving `<scratch>/admin.sock`.
pub struct Api {
    pub sock: PathBuf,
    pub program: Arc<Program>,
    pub tables: Arc<Tables>,
    handle: Option<ApiHandle>,
    /// Holds the socket and config; removed on drop.
    _scratch: Scratch,
}

impl Api {
    /// Compiles `cfg` (where `@SOCK@` stands for the socket path) and
    /// serves its stats socket.
    pub fn start(label: &str, cfg: &str) -> Api {
        let scratch = Scratch::new(label);
        let sock = scratch.path.join("admin.sock");
        let text = cfg.replace("@SOCK@", &sock.display().to_string());
        let path = scratch.write("lb.cfg", &text);
        let checked = match lbd::reload::load_program(&[path]) {
            Ok(c) => c,
            Err(problems) => panic!("config does not compile: {problems:#?}"),
        };
        let program = Arc::new(checked.program);
        let tables = Arc::new(Tables::new(program.tables.clone()));
        let handle = api::spawn(Arc::clone(&program), Arc::clone(&tables)).expect("spawn the API");
        Api {
            sock,
            program,
            tables,
            handle: Some(handle),
            _scratch: scratch,
        }
    }

    /// `printf '<input>' | socat stdio unix-connect:<sock>`: every byte read.
    pub fn socat(&self, input: &str) -> String {
        socat(&self.sock, input)
    }

    /// One command line, non-interactive.
    pub fn cmd(&self, line: &str) -> String {
        self.socat(&format!("{line}\n"))
    }

    pub fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}

pub fn socat(sock: &std::path::Path, input: &str) -> String {
    let mut child = Command::new("socat")
        .args(["-t", "5", "stdio"])
        .arg(format!("unix-connect:{}", sock.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run socat");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write to socat");
    }
    let out = child.wait_with_output().expect("wait for socat");
    String::from_utf8(out.stdout).expect("utf-8 answer")
}

/// weights.cfg of the reference, on free ports, with no health checks
/// running (the API alone is under test here).
pub fn weights_cfg() -> String {
    "global\n    stats socket @SOCK@ mode 600 level admin\n    stats timeout 2m\n\n\
     defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
     frontend www\n    bind 127.0.0.1:21090\n    default_backend app\n\n\
     backend app\n    balance roundrobin\n    option httpchk GET /health\n    http-check expect status 200\n\
     \x20   default-server inter 1s fall 2 rise 2\n\
     \x20   server web1 127.0.0.1:21091 weight 10 check\n\
     \x20   server web2 127.0.0.1:21092 weight 20 check\n\
     \x20   server web3 127.0.0.1:21093 weight 30 check\n"
        .to_string()
}

pub fn skip_without(program: &str) -> bool {
    if have(program) {
        return false;
    }
    eprintln!("skipped: {program} is not installed");
    true
}

/// The tables of the reference's `tables.cfg` and `ratelimit.cfg`.
pub fn tables_cfg() -> String {
    "global\n    stats socket @SOCK@ mode 600 level admin\n\n\
     defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
     frontend http\n    bind 127.0.0.1:21080\n    stick-table type ip size 200k expire 10m store gpc0\n    default_backend test1\n\n\
     backend test1\n    stick-table type ip size 200k expire 30s store conn_rate(100s),bytes_out_rate(60s)\n    server test1 127.0.0.1:21081\n\n\
     backend st_ipv6\n    stick-table type ipv6 size 1k expire 10m store gpc0,http_req_cnt\n\n\
     backend st_int\n    stick-table type integer size 1k expire 10m store gpc0\n\n\
     backend st_str\n    stick-table type string len 32 size 1k expire 10m store gpc0,http_req_cnt\n\n\
     backend st_bin\n    stick-table type binary len 8 size 1k expire 10m store gpc0,http_req_cnt\n"
        .to_string()
}

/// Drops the `0x...:` entry ids and `exp=` values, which change run to run.
pub fn stable(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l
                .split_once(": key=")
                .map_or(l.to_string(), |(_, r)| format!("key={r}"));
            l.split(' ')
                .map(|w| if w.starts_with("exp=") { "exp=X" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `show stat` header of HAProxy 2.6, verbatim.
pub const STAT_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

/// `(pxname, svname, status, weight, act, iid, sid, type)` of each row.
pub fn stat_summary(csv: &str) -> Vec<String> {
    csv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 129, "128 fields and a trailing comma: {l}");
            [0, 1, 17, 18, 19, 27, 28, 32].map(|i| f[i]).join(",")
        })
        .collect()
}

/// `GET <path>` on a loopback port; the whole response as text.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Read as _;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// Starts haproxy on `cfg`, whose `@SOCK@` becomes a stats socket in
/// `dir`; waits (bounded) until that socket answers at admin level.
/// Returns the process (stopped on drop) and the socket's path.
pub fn start_haproxy(dir: &Scratch, cfg: &str) -> (crate::harness::Proc, PathBuf) {
    let sock = dir.path.join("hap.sock");
    let path = dir.write(
        "hap.cfg",
        &cfg.replace("@SOCK@", &sock.display().to_string()),
    );
    let proc = crate::harness::Proc::spawn(
        "haproxy",
        Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .current_dir(&dir.path)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let ready = crate::harness::eventually(100, std::time::Duration::from_millis(50), || {
        sock.exists()
            .then(|| socat(&sock, "show cli level\n"))
            .filter(|a| a == "admin\n\n")
    });
    assert!(ready.is_some(), "haproxy did not open its stats socket");
    (proc, sock)
}
