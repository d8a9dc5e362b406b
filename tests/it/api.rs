//! The runtime API driven with real `socat` (and hatop, and the Prometheus
//! exporter) on a stats socket served in-process by `lbd::api::spawn`.
//! Expected bytes are HAProxy 2.6's (`haproxy-cli.md`).

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

fn skip_without(program: &str) -> bool {
    if have(program) {
        return false;
    }
    eprintln!("skipped: {program} is not installed");
    true
}

#[test]
fn get_weight_two_lines_in_one_write() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-weights", &weights_cfg());
    assert_eq!(
        api.socat("get weight app/web1\nget weight app/web2\n"),
        "10 (initial 10)\n\n20 (initial 20)\n\n"
    );
    api.stop();
}

#[test]
fn framing_semicolons_quit_and_empty_commands() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-framing", &weights_cfg());
    let empty = api.cmd("get weight app/web1 ; ; get weight app/web2");
    assert!(empty.starts_with(
        "10 (initial 10)\n\nUnknown command. Please enter one of the following commands only:\n  abort ssl ca-file <cafile>"
    ));
    assert!(empty.ends_with(
        "  quit                                    : disconnect\n\n20 (initial 20)\n\n"
    ));
    assert_eq!(
        api.cmd("get weight app/web1;quit;get weight app/web2"),
        "10 (initial 10)\n\n"
    );
    assert_eq!(api.cmd("quit"), "");
    assert_eq!(api.cmd("get weight app/web1\\;x"), "No such server.\n\n");
    assert_eq!(api.cmd("get weight \"app/web1\""), "No such backend.\n\n");
    assert_eq!(api.socat("get weight app/web1\r\n"), "10 (initial 10)\n\n");
    // A line without a newline is never run.
    assert_eq!(api.socat("get weight app/web1"), "");
    assert!(
        api.cmd("GET WEIGHT app/web1")
            .starts_with("Unknown command, but maybe")
    );
    api.stop();
}

#[test]
fn prompt_mode_transcript() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-prompt", &weights_cfg());
    assert_eq!(
        api.socat("prompt\nget weight app/web1\nquit\nget weight app/web2\n"),
        "\n> 10 (initial 10)\n\n> "
    );
    assert_eq!(
        api.socat("prompt\nset weight app/web1 10\nget weight app/web1; get weight app/web2\nset timeout cli 60\nshow cli level\nprompt\n"),
        "\n> \n> 10 (initial 10)\n\n> 20 (initial 20)\n\n> \n> admin\n\n> \n"
    );
    api.stop();
}

#[test]
fn levels_and_permission_denied() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-levels", &weights_cfg());
    assert_eq!(
        api.cmd("operator; show cli level; set weight app/web1 10; get weight app/web1; disable server app/web1"),
        "\noperator\n\nPermission denied\n\n10 (initial 10)\n\nPermission denied\n\n"
    );
    assert_eq!(
        api.cmd("operator; clear counters; clear counters all; disable frontend www; shutdown sessions server app/web1"),
        "\n\nPermission denied\n\nPermission denied\n\nPermission denied\n\n"
    );
    assert_eq!(
        api.cmd("user; operator; show cli level"),
        "\nPermission denied\n\nuser\n\n"
    );
    assert_eq!(
        api.cmd("user; show sess; show errors; clear counters"),
        "\nPermission denied\n\nPermission denied\n\nPermission denied\n\n"
    );
    api.stop();
}

/// Every weight and server error text of §2.8 and §2.9, byte for byte.
#[test]
fn weight_and_server_errors_match_haproxy() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-errors", &weights_cfg());
    let cases = [
        ("get weight app/web1", "10 (initial 10)\n\n"),
        ("set weight app/web1 50", "\n"),
        ("get weight app/web1", "50 (initial 10)\n\n"),
        ("set weight app/web1 50%", "\n"),
        ("get weight app/web1", "5 (initial 10)\n\n"),
        ("set weight app/web1 1000%", "\n"),
        ("get weight app/web1", "100 (initial 10)\n\n"),
        ("set weight app/web1 256", "\n"),
        ("set server app/web1 weight 25%", "\n"),
        ("get weight app/web1", "2 (initial 10)\n\n"),
        ("set weight app/web1 100%", "\n"),
        ("get weight app/web1", "10 (initial 10)\n\n"),
        (
            "set weight app/web1 257",
            "Absolute weight can only be between 0 and 256 inclusive.\n\n",
        ),
        (
            "set weight app/web1 -1",
            "Absolute weight can only be between 0 and 256 inclusive.\n\n",
        ),
        (
            "set weight app/web1 abc",
            "Empty weight string empty or preceded by garbage\n",
        ),
        (
            "set weight app/web1 10abc",
            "Trailing garbage in weight string\n",
        ),
        ("set weight app/web1", "Require <weight> or <weight%>.\n\n"),
        (
            "set weight app/web1 -10%",
            "Relative weight must be positive.\n\n",
        ),
        ("set weight app/nosuch 10", "No such server.\n\n"),
        ("set weight nosuch/web1 10", "No such backend.\n\n"),
        ("set weight app 10", "Require 'backend/server'.\n\n"),
        ("set weight", "Require 'backend/server'.\n\n"),
        ("get weight app/nosuch", "No such server.\n\n"),
        ("get weight nosuch/web1", "No such backend.\n\n"),
        ("get weight app", "Require 'backend/server'.\n\n"),
        ("disable server app/nosuch", "No such server.\n\n"),
        ("disable server nosuch/web1", "No such backend.\n\n"),
        ("disable server app", "Require 'backend/server'.\n\n"),
        (
            "set server app/web3 state foo",
            "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
        ),
        (
            "set server app/web3",
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n",
        ),
        ("set server app/nosuch state ready", "No such server.\n\n"),
        ("set server nosuch/web3 state ready", "No such backend.\n\n"),
        (
            "set server app/web1 weight 5x",
            "Trailing garbage in weight string\n",
        ),
        (
            "set server app/web1 addr",
            "set server <b>/<s> addr requires an address and optionally a port.\n\n",
        ),
        (
            "set server app/web1 addr foo",
            "Invalid addr 'foo' by 'stats socket command'\n\n",
        ),
        (
            "set server app/web1 addr 127.0.0.1 port 21091",
            "no need to change the addr, no need to change the port by 'stats socket command'\n\n",
        ),
        (
            "set server app/web1 addr 127.0.0.5",
            "IP changed from '127.0.0.1' to '127.0.0.5' by 'stats socket command'\n\n",
        ),
        (
            "set server app/web1 addr 127.0.0.5 port 8080",
            "no need to change the addr, port changed from '21091' to '8080' by 'stats socket command'\n\n",
        ),
        (
            "set server app/web1 addr 127.0.0.1 port x",
            "IP changed from '127.0.0.5' to '127.0.0.1', problem converting port 'x' to an int by 'stats socket command'\n\n",
        ),
        (
            "set server app/web1 addr 127.0.0.1 port 21091",
            "no need to change the addr, port changed from '8080' to '21091' by 'stats socket command'\n\n",
        ),
        ("show servers state nosuch", "Can't find backend.\n\n"),
        ("show servers state www", "Can't find backend.\n\n"),
        ("disable frontend nosuch", "No such frontend.\n\n"),
        ("disable frontend app", "No such frontend.\n\n"),
        ("enable frontend", "A frontend name is expected.\n\n"),
        (
            "enable frontend www",
            "All sockets are already enabled.\n\n",
        ),
        ("disable frontend www", "\n"),
        (
            "disable frontend www",
            "All sockets are already disabled.\n\n",
        ),
        ("enable frontend www", "\n"),
        (
            "shutdown sessions server app",
            "Require 'backend/server'.\n\n",
        ),
        ("shutdown sessions server app/web1", "\n"),
        ("clear counters", "\n"),
        ("clear counters all", "\n"),
        ("set timeout cli", "Expects an integer value.\n\n"),
        ("set timeout cli x", "Invalid timeout value.\n\n"),
        ("set timeout cli 0", "Invalid timeout value.\n\n"),
        (
            "set timeout foo 5",
            "'set timeout' only supports 'cli'.\n\n",
        ),
        ("show errors nosuch", "No such proxy.\n\n"),
        ("show backend", "# name\napp\n\n"),
        ("show cli level", "admin\n\n"),
    ];
    for (cmd, want) in cases {
        assert_eq!(api.cmd(cmd), want, "answer to {cmd:?}");
    }
    api.stop();
}

/// The tables of the reference's `tables.cfg` and `ratelimit.cfg`.
fn tables_cfg() -> String {
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
fn stable(text: &str) -> String {
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

#[test]
fn show_set_clear_table_and_their_errors() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-tables", &tables_cfg());
    for key in ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        assert_eq!(
            api.cmd(&format!("set table http key {key} data.gpc0 0")),
            "\n"
        );
    }
    assert_eq!(api.cmd("set table http key 127.0.0.1 data.gpc0 1"), "\n");
    assert_eq!(
        api.cmd("show table"),
        "# table: st_bin, type: binary, size:1024, used:0\n\
         # table: st_str, type: string, size:1024, used:0\n\
         # table: st_int, type: integer, size:1024, used:0\n\
         # table: st_ipv6, type: ipv6, size:1024, used:0\n\
         # table: test1, type: ip, size:204800, used:0\n\
         # table: http, type: ip, size:204800, used:4\n\n"
    );
    assert_eq!(
        stable(&api.cmd("show table http")),
        "# table: http, type: ip, size:204800, used:4\n\
         key=127.0.0.1 use=0 exp=X gpc0=1\nkey=127.0.0.2 use=0 exp=X gpc0=0\n\
         key=127.0.0.3 use=0 exp=X gpc0=0\nkey=127.0.0.4 use=0 exp=X gpc0=0\n"
    );
    assert_eq!(
        stable(&api.cmd("show table http data.gpc0 gt 0")),
        "# table: http, type: ip, size:204800, used:4\nkey=127.0.0.1 use=0 exp=X gpc0=1\n"
    );
    assert_eq!(
        stable(&api.cmd("show table http key 127.0.0.1")),
        "# table: http, type: ip, size:204800, used:4\nkey=127.0.0.1 use=0 exp=X gpc0=1\n"
    );
    assert_eq!(api.cmd("show table http key 127.0.0.99"), "\n");
    assert_eq!(
        api.cmd("set table test1 key 127.0.0.60 data.conn_rate 7"),
        "\n"
    );
    assert_eq!(
        stable(&api.cmd("show table test1 key 127.0.0.60")),
        "# table: test1, type: ip, size:204800, used:1\nkey=127.0.0.60 use=0 exp=X conn_rate(100000)=7 bytes_out_rate(60000)=0\n"
    );
    assert_eq!(api.cmd("set table st_int key 42 data.gpc0 3"), "\n");
    assert_eq!(
        api.cmd("set table st_ipv6 key 2001:db8::1 data.gpc0 9"),
        "\n"
    );
    assert_eq!(
        stable(&api.cmd("show table st_ipv6")),
        "# table: st_ipv6, type: ipv6, size:1024, used:1\nkey=2001:db8::1 use=0 exp=X gpc0=9 http_req_cnt=0\n"
    );
    assert_eq!(
        api.cmd("set table st_str key bob\\ smith data.gpc0 1"),
        "\n"
    );
    assert_eq!(
        stable(&api.cmd("show table st_str key bob\\ smith")),
        "# table: st_str, type: string, size:1024, used:1\nkey=bob\\ smith use=0 exp=X gpc0=1 http_req_cnt=0\n"
    );
    assert_eq!(api.cmd("set table http key 127.0.0.50 data.gpc0 2"), "\n");
    assert_eq!(api.cmd("clear table http key 127.0.0.50"), "\n");
    assert_eq!(api.cmd("clear table http data.gpc0 gt 0"), "\n");
    assert_eq!(
        api.cmd("show table http data.gpc0 gt 0"),
        "# table: http, type: ip, size:204800, used:3\n\n"
    );
    assert_eq!(api.cmd("clear table http"), "\n");
    assert_eq!(
        api.cmd("show table http"),
        "# table: http, type: ip, size:204800, used:0\n\n"
    );
    assert_eq!(api.cmd("clear table http key 127.0.0.99"), "\n");
    let errors = [
        ("show table nosuch", "No such table\n\n"),
        ("show table http key", "Key value expected\n\n"),
        ("show table http key notanip", "\n"),
        (
            "show table http data.nosuch gt 0",
            "Filter entry #1: Unknown data type\n\n",
        ),
        (
            "show table http data.gpc0 xx 0",
            "Filter entry #1: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n\n",
        ),
        (
            "show table http data.gpc0 gt abc",
            "Filter entry #1: Require a valid integer value to compare against\n\n",
        ),
        (
            "show table http data.conn_rate gt 0",
            "Filter entry #1: Data type not stored in this table\n\n",
        ),
        (
            "show table http foo",
            "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n\n",
        ),
        (
            "show table http data.gpc0 gt 0 data.gpc0 lt 5 data.gpc0 ne 3 data.gpc0 ge 0 data.gpc0 le 9",
            "Detected extra data in filter, 16th word of input, after '0'\n\n",
        ),
        (
            "set table http key 127.0.0.1 data.gpc0",
            "Require a valid integer value to store\n\n",
        ),
        (
            "set table http key 127.0.0.1 data.nosuch 1",
            "Unknown data type\n\n",
        ),
        (
            "set table http key 127.0.0.1 data.conn_rate 1",
            "Data type not stored in this table\n\n",
        ),
        (
            "set table nosuch key 127.0.0.1 data.gpc0 1",
            "No such table\n\n",
        ),
        (
            "set table http 127.0.0.1 data.gpc0 1",
            "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n\n",
        ),
        (
            "set table http key 127.0.0.1 gpc0 1",
            "\"data.<type>\" followed by a value expected\n\n",
        ),
        (
            "set table http data.gpc0 gt 0",
            "content-based lookup is only supported with the \"show\" and \"clear\" actions\n\n",
        ),
        ("set table st_int key -7 data.gpc0 1", "Invalid key\n\n"),
        (
            "set table st_ipv6 key 127.0.0.1 data.gpc0 2",
            "Invalid key\n\n",
        ),
        (
            "set table st_bin key 0102 data.gpc0 1",
            "Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n\n",
        ),
        ("clear table nosuch key 127.0.0.1", "No such table\n\n"),
        (
            "clear table http foo",
            "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n\n",
        ),
        (
            "clear table",
            "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n\n",
        ),
        ("clear table http key", "Key value expected\n\n"),
        (
            "user; set table http key 127.0.0.78 data.gpc0 1; clear table http key 127.0.0.77; show table http key 127.0.0.1",
            "\nPermission denied\n\nPermission denied\n\nPermission denied\n\n",
        ),
    ];
    for (cmd, want) in errors {
        assert_eq!(api.cmd(cmd), want, "answer to {cmd:?}");
    }
    // Values are truncated to 32 bits as in HAProxy.
    assert_eq!(api.cmd("set table st_int key 7 data.gpc0 -1"), "\n");
    assert!(
        api.cmd("show table st_int key 7")
            .contains(" gpc0=4294967295\n")
    );
    assert!(api.tables.by_name("st_int").is_some_and(|t| t.len() == 2));
    api.stop();
}

/// The `show stat` header of HAProxy 2.6, verbatim.
const STAT_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

/// `(pxname, svname, status, weight, act, iid, sid, type)` of each row.
fn stat_summary(csv: &str) -> Vec<String> {
    csv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 129, "128 fields and a trailing comma: {l}");
            [0, 1, 17, 18, 19, 27, 28, 32].map(|i| f[i]).join(",")
        })
        .collect()
}

#[test]
fn show_stat_rows_filters_and_state_changes() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-stat", &weights_cfg());
    let all = api.cmd("show stat");
    assert!(all.starts_with(STAT_HEADER));
    assert!(all.ends_with(",\n\n"));
    assert_eq!(
        stat_summary(&all),
        [
            "www,FRONTEND,OPEN,,,2,0,0",
            "app,web1,UP,10,1,3,1,2",
            "app,web2,UP,20,1,3,2,2",
            "app,web3,UP,30,1,3,3,2",
            "app,BACKEND,UP,60,3,3,0,1",
        ]
    );
    assert_eq!(
        stat_summary(&api.cmd("show stat 3 2 -1")),
        ["app,BACKEND,UP,60,3,3,0,1"]
    );
    assert_eq!(
        stat_summary(&api.cmd("show stat app 4 2")),
        ["app,web2,UP,20,1,3,2,2"]
    );
    assert_eq!(
        stat_summary(&api.cmd("show stat -1 1 -1")),
        ["www,FRONTEND,OPEN,,,2,0,0"]
    );
    assert_eq!(api.cmd("show stat 9 -1 -1"), format!("{STAT_HEADER}\n"));
    assert_eq!(api.cmd("disable server app/web2"), "\n");
    assert_eq!(api.cmd("set server app/web3 state drain"), "\n");
    assert_eq!(api.cmd("set weight app/web1 0"), "\n");
    assert_eq!(
        stat_summary(&api.cmd("show stat -1 6 -1")),
        [
            "app,web1,UP,0,1,3,1,2",
            "app,web2,MAINT,20,1,3,2,2",
            "app,web3,DRAIN,30,1,3,3,2",
            "app,BACKEND,DOWN,0,0,3,0,1",
        ]
    );
    assert_eq!(api.cmd("enable server app/web2"), "\n");
    assert_eq!(
        stat_summary(&api.cmd("show stat -1 4 2")),
        ["app,web2,UP 1/2,20,1,3,2,2"]
    );
    let state = api.cmd("show servers state app");
    let lines: Vec<&str> = state.lines().collect();
    assert_eq!(lines[0], "1");
    assert!(lines[1].starts_with("# be_id be_name srv_id srv_name srv_addr srv_op_state"));
    assert_eq!(
        lines[2].split(' ').take(9).collect::<Vec<_>>().join(" "),
        "3 app 1 web1 127.0.0.1 2 0 0 10"
    );
    assert_eq!(
        lines[4].split(' ').take(9).collect::<Vec<_>>().join(" "),
        "3 app 3 web3 127.0.0.1 2 8 30 30"
    );
    assert!(lines[4].ends_with(" 6 0 0 0 - 21093 - 0 0 - - 0"));
    let typed = api.cmd("show stat 3 4 1 typed");
    assert!(typed.starts_with("S.3.1.0.pxname.1:KNS:str:app\nS.3.1.1.svname.1:KNS:str:web1\n"));
    assert!(typed.contains("S.3.1.17.status.1:SGP:str:UP\n"));
    assert!(api.program.find_proxy("app").is_some());
    api.stop();
}

#[test]
fn show_info_has_every_key_hatop_requires() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-info", &weights_cfg());
    let info = api.cmd("show info");
    for key in [
        "Name",
        "Version",
        "Release_date",
        "Nbproc",
        "Process_num",
        "Pid",
        "Uptime",
        "Maxconn",
        "CurrConns",
        "Maxpipes",
        "PipesUsed",
        "Tasks",
        "Run_queue",
        "node",
    ] {
        assert!(
            info.lines().any(|l| l.starts_with(&format!("{key}: "))),
            "show info lacks {key}: {info}"
        );
    }
    assert!(info.contains(&format!("\nPid: {}\n", std::process::id())));
    assert!(info.ends_with("\nTainted: 0\n\n"));
    let typed = api.cmd("show info typed");
    assert!(typed.starts_with("0.Name.1:POS:str:lbd\n1.Version.1:POS:str:"));
    assert!(typed.contains("\n47.Tasks.1:MGP:u32:"));
    api.stop();
}

#[test]
fn socket_mode_is_applied_and_a_stale_file_is_replaced() {
    if skip_without("socat") {
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new("api-stale");
    let sock = scratch.path.join("admin.sock");
    // A socket file left by a dead process.
    drop(std::os::unix::net::UnixListener::bind(&sock).expect("bind a stale socket"));
    let cfg = weights_cfg().replace("@SOCK@", &sock.display().to_string());
    let path = scratch.write("lb.cfg", &cfg);
    let program = Arc::new(lbd::reload::load_program(&[path]).expect("compile").program);
    let tables = Arc::new(Tables::new(program.tables.clone()));
    let handle = api::spawn(program, tables).expect("spawn over a stale socket");
    let mode = std::fs::metadata(&sock)
        .expect("socket exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(socat(&sock, "show cli level\n"), "admin\n\n");
    handle.stop();
    assert!(!sock.exists(), "the socket file is removed on stop");
}

/// A config both HAProxy and lbd run: a checked-less HTTP frontend and
/// backend, a TCP pair with a backup server, a listen section with a
/// limited server and two tables.
fn side_by_side_cfg(ports: [u16; 3]) -> String {
    format!(
        "global\n    stats socket @SOCK@ mode 600 level admin\n    maxconn 2000\n\n\
         defaults\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\n\
         frontend www\n    mode http\n    bind 127.0.0.1:{}\n    stick-table type ip size 1k expire 10m store gpc0,http_req_cnt\n    default_backend app\n\n\
         backend app\n    mode http\n    balance roundrobin\n    server web1 127.0.0.1:9 weight 10\n    server web2 127.0.0.1:9 weight 20\n\n\
         frontend ft\n    mode tcp\n    bind 127.0.0.1:{}\n    default_backend bt\n\n\
         backend bt\n    mode tcp\n    stick-table type string len 16 size 10 expire 1m store conn_cnt\n    server s1 127.0.0.1:9\n    server s2 127.0.0.1:9 backup\n\n\
         listen ls\n    mode http\n    bind 127.0.0.1:{}\n    server l1 127.0.0.1:9 maxconn 5\n",
        ports[0], ports[1], ports[2]
    )
}

/// Which cells of each `show stat` row are empty: the shape clients rely on.
fn stat_shape(csv: &str) -> Vec<String> {
    csv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let shape: String = f
                .iter()
                .map(|c| if c.is_empty() { '.' } else { 'x' })
                .collect();
            format!("{},{}: {shape}", f[0], f[1])
        })
        .collect()
}

#[test]
fn same_answers_as_haproxy_on_the_same_config() {
    if skip_without("socat") || skip_without("haproxy") {
        return;
    }
    use crate::harness::{Proc, eventually, free_port};
    use std::time::Duration;
    let cfg = side_by_side_cfg([free_port(), free_port(), free_port()]);
    let hap_dir = Scratch::new("api-vs-haproxy");
    let hap_sock = hap_dir.path.join("hap.sock");
    let hap_cfg = hap_dir.write(
        "hap.cfg",
        &cfg.replace("@SOCK@", &hap_sock.display().to_string()),
    );
    let _haproxy = Proc::spawn(
        "haproxy",
        Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&hap_cfg)
            .current_dir(&hap_dir.path)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let ready = eventually(100, Duration::from_millis(50), || {
        hap_sock
            .exists()
            .then(|| socat(&hap_sock, "show cli level\n"))
            .filter(|a| a == "admin\n\n")
    });
    assert!(ready.is_some(), "haproxy did not open its stats socket");
    let api = Api::start("api-vs-lbd", &cfg);
    let hap = |line: &str| socat(&hap_sock, &format!("{line}\n"));

    let same_bytes = [
        "help",
        "help show table",
        "help show",
        "help foo",
        "foo",
        "xyz123",
        "set foo",
        "clear x",
        "enable srv",
        "show stats",
        "get wieght",
        "show",
        "show servers",
        "set",
        "",
        "get weight app/web1; get weight app/web2; get weight bt/s2",
        "set weight app/web1 300; set weight app/web1 x; set weight bt/nosuch 1",
        "set weight app/web1 5; get weight app/web1; set weight app/web1 100%",
        "set server app/web1 state maint; get weight app/web1; set server app/web1 state ready",
        "show servers state nosuch",
        "show table",
        "show table www",
        "show table nosuch",
        "set table www key 127.0.0.1 data.gpc0 3; show table www key 127.0.0.2",
        "set table bt key abc data.conn_cnt 2",
        "show table www data.http_req_cnt gt 0 data.gpc0 eq 3 data.gpc0 lt 4 data.gpc0 le 3 x",
        "clear table www key 127.0.0.1; clear table bt; show table",
        "show backend",
        "operator; set weight app/web1 1; user; show table www key 1.2.3.4",
        "disable frontend ft; disable frontend ft; enable frontend ft; enable frontend ft",
        "show errors nosuch",
        "set timeout cli 5; set timeout cli; set timeout client 1",
    ];
    for line in same_bytes {
        assert_eq!(api.cmd(line), hap(line), "answers to {line:?} differ");
    }

    // Suggestions for these tie on distance; HAProxy breaks ties by the
    // order its source files register commands, lbd alphabetically.
    for line in ["nosuchcmd", "show foo", "abc def"] {
        assert_eq!(
            api.cmd(line).lines().next(),
            hap(line).lines().next(),
            "{line}"
        );
    }

    let keys = |info: String| -> Vec<String> {
        info.lines()
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        keys(api.cmd("show info")),
        keys(hap("show info")),
        "show info keys"
    );
    let typed_keys = |typed: String| -> Vec<String> {
        typed
            .lines()
            .map(|l| l.rsplit_once(':').map_or("", |x| x.0).to_string())
            .collect()
    };
    assert_eq!(
        typed_keys(api.cmd("show info typed")),
        typed_keys(hap("show info typed")),
        "show info typed"
    );
    assert_eq!(
        typed_keys(api.cmd("show stat typed")),
        typed_keys(hap("show stat typed")),
        "show stat typed"
    );

    let (ours, theirs) = (api.cmd("show stat"), hap("show stat"));
    assert_eq!(
        ours.lines().next(),
        theirs.lines().next(),
        "show stat header"
    );
    assert_eq!(stat_summary(&ours), stat_summary(&theirs), "show stat rows");
    assert_eq!(
        stat_shape(&ours),
        stat_shape(&theirs),
        "show stat empty cells"
    );
    let servers = |s: String| -> Vec<String> {
        s.lines()
            .map(|l| {
                l.split(' ')
                    .enumerate()
                    .filter(|(i, _)| *i != 9)
                    .map(|(_, w)| w)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(
        servers(api.cmd("show servers state")),
        servers(hap("show servers state")),
        "show servers state (but the time since the last change)"
    );

    // The same state changes on both, then the same rows and shapes.
    let changes = "disable server app/web2; set server bt/s1 state drain; set weight ls/l1 0; disable frontend ft";
    assert_eq!(api.cmd(changes), hap(changes));
    let (ours, theirs) = (api.cmd("show stat"), hap("show stat"));
    assert_eq!(
        stat_summary(&ours),
        stat_summary(&theirs),
        "show stat rows after changes"
    );
    assert_eq!(
        stat_shape(&ours),
        stat_shape(&theirs),
        "show stat empty cells after changes"
    );
    assert_eq!(
        servers(api.cmd("show servers state")),
        servers(hap("show servers state")),
        "show servers state after changes"
    );
    api.stop();
}

/// `GET <path>` on a loopback port; the whole response as text.
fn http_get(port: u16, path: &str) -> Option<String> {
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

#[test]
fn hostile_clients_neither_block_others_nor_crash_the_api() {
    if skip_without("socat") {
        return;
    }
    use std::io::Read as _;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};
    let api = Api::start(
        "api-hostile",
        &weights_cfg().replace("stats timeout 2m", "stats timeout 1s"),
    );
    // Idle clients hold connections open without sending anything.
    let idle: Vec<UnixStream> = (0..8)
        .map(|_| UnixStream::connect(&api.sock).expect("connect"))
        .collect();
    let start = Instant::now();
    assert_eq!(api.cmd("get weight app/web1"), "10 (initial 10)\n\n");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "served while others idle"
    );
    // The idle ones are closed after the timeout, with nothing written.
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = Vec::new();
        assert_eq!(s.read_to_end(&mut buf).expect("closed by the server"), 0);
    }
    // Garbage: binary bytes and invalid UTF-8 get an answer, not a crash.
    let mut s = UnixStream::connect(&api.sock).expect("connect");
    s.write_all(b"\xff\xfe\x00garbage\x01\n").expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("Unknown command, but maybe"), "{answer}");
    // A 1 MiB line without a newline: an error, then the connection closes.
    let mut s = UnixStream::connect(&api.sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let sent = s.write_all(&vec![b'x'; 1 << 20]);
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok();
    assert!(
        sent.is_err() || buf == b"Command line too long.\n",
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
    // And the API still answers.
    assert_eq!(api.cmd("show cli level"), "admin\n\n");
    api.stop();
}

#[test]
fn stats_page_csv_and_prometheus_formatters_share_the_numbers() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-formatters", &tables_cfg());
    assert_eq!(api.cmd("set table http key 10.0.0.1 data.gpc0 1"), "\n");

    let fe = api.program.find_proxy("http").expect("http");
    for _ in 0..3 {
        fe.frontend_counters
            .session_opened(lbd::clock::monotonic_ms());
        fe.frontend_counters
            .request_received(lbd::clock::monotonic_ms());
    }
    let row = api.cmd("show stat -1 1 -1");
    let cells: Vec<&str> = row
        .lines()
        .nth(1)
        .expect("frontend row")
        .split(',')
        .collect();
    // scur, smax, stot; rate_max and req_rate_max (3, or 2 when the
    // events straddle a second); req_tot.
    assert_eq!(
        [cells[4], cells[5], cells[7], cells[48]],
        ["3", "3", "3", "3"]
    );
    for max in [cells[35], cells[47], cells[78]] {
        assert!(max == "3" || max == "2", "{row}");
    }
    assert_eq!(api.cmd("clear counters all"), "\n");
    let row = api.cmd("show stat -1 1 -1");
    let cells: Vec<&str> = row
        .lines()
        .nth(1)
        .expect("frontend row")
        .split(',')
        .collect();
    assert_eq!(
        [cells[4], cells[5], cells[7], cells[48]],
        ["3", "3", "0", "0"]
    );

    let be = api.program.find_proxy("test1").expect("test1");
    be.servers[0].state.counters.http_responses[1]
        .fetch_add(7, std::sync::atomic::Ordering::Relaxed);

    let csv = api::format::stat_csv(&api.program);
    assert_eq!(format!("{csv}\n"), api.cmd("show stat"));

    let text = api::format::prometheus(&api.program, &api.tables);
    for want in [
        "# TYPE haproxy_server_http_responses_total counter\n",
        "haproxy_server_http_responses_total{proxy=\"test1\",server=\"test1\",code=\"2xx\"} 7\n",
        "haproxy_backend_status{proxy=\"test1\",state=\"UP\"} 1\n",
        "haproxy_frontend_status{proxy=\"http\",state=\"UP\"} 1\n",
        "haproxy_server_status{proxy=\"test1\",server=\"test1\",state=\"UP\"} 1\n",
        "haproxy_sticktable_used{name=\"http\",type=\"ip\"} 1\n",
        "haproxy_frontend_status{proxy=\"http\",state=\"DOWN\"} 0\n",
        "\nhaproxy_process_max_connections 4096\n",
    ] {
        assert!(
            text.contains(want),
            "prometheus text lacks {want:?}:\n{text}"
        );
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').expect("name and value");
        assert!(name.starts_with("haproxy_"), "{line}");
        assert!(value.parse::<u64>().is_ok(), "{line}");
    }

    let html = api::format::stats_html(&api.program, Some(5));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
    assert!(html.contains("<th colspan=\"16\">test1</th>"));
    assert!(html.contains("<td>FRONTEND</td><td>OPEN</td>"));
    assert!(html.contains("<td>test1</td><td>no check</td>"));
    assert!(html.ends_with("</body></html>\n"));
    api.stop();
}

#[test]
fn a_reloaded_program_is_seen_by_later_commands() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-reload", &weights_cfg());
    let dir = Scratch::new("api-reload-next");
    let next = weights_cfg()
        .replace("@SOCK@", &dir.path.join("unused.sock").display().to_string())
        .replace("server web3 127.0.0.1:21093 weight 30 check\n", "server web3 127.0.0.1:21093 weight 30 check\n    server web4 127.0.0.1:21094 weight 40\n");
    let path = dir.write("next.cfg", &next);
    let program = Arc::new(lbd::reload::load_program(&[path]).expect("compile").program);
    let tables = Arc::new(Tables::new(program.tables.clone()));
    assert_eq!(api.cmd("get weight app/web4"), "No such server.\n\n");
    api.handle
        .as_ref()
        .expect("running")
        .set_program(program, tables);
    assert_eq!(api.cmd("get weight app/web4"), "40 (initial 40)\n\n");
    api.stop();
}

#[test]
fn show_errors_reports_captured_requests() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-errors-capture", &weights_cfg());
    let empty = api.cmd("show errors");
    assert!(empty.starts_with("Total events captured on ["), "{empty}");
    assert!(empty.ends_with("] : 0\n\n"), "{empty}");
    let fe = api.program.find_proxy("www").expect("www");
    fe.frontend_counters.capture(lbd::stats::ErrorCapture {
        when_unix_ms: 1_795_388_834_186,
        kind: lbd::stats::CaptureKind::Request,
        src: Some("127.0.0.12:47919".parse().expect("addr")),
        peer_proxy: None,
        server: None,
        error_pos: 7,
        bytes: b"GET /a b c HTTP/1.1\r\nHost: test1.com\r\n\r\n"
            .to_vec()
            .into(),
    });
    let one = api.cmd("show errors");
    let body = one.split_once('\n').map(|(_, b)| b).expect("two parts");
    assert!(one.lines().next().is_some_and(|l| l.ends_with("] : 1")));
    assert_eq!(
        body,
        " \n[22/Nov/2026:23:07:14.186] frontend www (#2): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #0, src 127.0.0.12:47919\n  len 40, error at position 7\n  \n  00000  GET /a b c HTTP/1.1\\r\\n\n  00021  Host: test1.com\\r\\n\n  00038  \\r\\n\n\n"
    );
    assert!(api.cmd("show errors app response").ends_with("] : 1\n\n"));
    api.stop();
}

// ----- the real `lbd` binary: traffic through the data plane -----

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
fn lbd_serving(dir: &Scratch, cfg: &str) -> Option<(crate::harness::Proc, PathBuf)> {
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
    count(front, 3);
    let table = socat(&sock, "show table www\n");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0], "# table: www, type: ip, size:1024, used:1",
        "{table}"
    );
    assert!(lines[1].contains(": key=127.0.0.1 use=0 exp="), "{table}");
    // Three connections, one request each: a tracked entry counts the
    // session's HTTP requests too (`haproxy-cli.md` §5.2).
    assert!(lines[1].ends_with(" conn_cnt=3 http_req_cnt=3"), "{table}");
    assert_eq!(socat(&sock, "clear table www\n"), "\n");
    assert_eq!(
        socat(&sock, "show table www\n"),
        "# table: www, type: ip, size:1024, used:0\n\n"
    );
}

#[test]
fn a_large_table_dump_streams_every_entry() {
    if skip_without("socat") {
        return;
    }
    let api = Api::start("api-big-table", &tables_cfg());
    let t = api.tables.by_name("http").expect("http table");
    let now = lbd::clock::now_ms();
    for i in 0..100_000u32 {
        let key = lbd::stick::Key::Ip(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        assert!(t.touch(&key, now).is_some());
    }
    let dump = api.cmd("show table http");
    assert!(dump.starts_with("# table: http, type: ip, size:204800, used:100000\n"));
    assert_eq!(
        dump.lines().filter(|l| l.contains(": key=10.")).count(),
        100_000
    );
    assert!(dump.ends_with(" gpc0=0\n\n"));
    assert_eq!(api.cmd("clear table http"), "\n");
    assert!(t.is_empty());
    api.stop();
}

mod fuzzed {
    use proptest::prelude::*;

    /// Words commands are made of, so that inputs reach the handlers.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("show".to_string()),
            Just("set".to_string()),
            Just("clear".to_string()),
            Just("table".to_string()),
            Just("www".to_string()),
            Just("st_str".to_string()),
            Just("st_bin".to_string()),
            Just("key".to_string()),
            Just("data.gpc0".to_string()),
            Just("data.conn_rate".to_string()),
            Just("gt".to_string()),
            Just("weight".to_string()),
            Just("server".to_string()),
            Just("app/a".to_string()),
            Just("app/b".to_string()),
            Just("stat".to_string()),
            Just("state".to_string()),
            Just("addr".to_string()),
            Just("prompt".to_string()),
            Just(";".to_string()),
            "[ -~]{0,12}",
            "-?[0-9]{1,12}%?",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_command_line_gets_an_answer(words in proptest::collection::vec(word(), 0..10)) {
            lbd::fuzzing::api_command(words.join(" ").as_bytes());
        }

        #[test]
        fn any_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            lbd::fuzzing::api_command(&bytes);
        }
    }
}

#[test]
fn stopping_the_api_does_not_wait_for_connected_clients() {
    use std::io::Read as _;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};
    let api = Api::start("api-stop", &weights_cfg());
    let mut client = UnixStream::connect(&api.sock).expect("connect");
    client.write_all(b"prompt\n").expect("write");
    let mut prompt = [0u8; 3];
    client.read_exact(&mut prompt).expect("prompt");
    assert_eq!(&prompt, b"\n> ");
    let start = Instant::now();
    api.stop();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        start.elapsed()
    );
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut rest = Vec::new();
    assert_eq!(client.read_to_end(&mut rest).expect("closed"), 0);
}
