//! The same config on HAProxy and lbd: the same answers.

use super::*;

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
    use crate::harness::free_port;
    let cfg = side_by_side_cfg([free_port(), free_port(), free_port()]);
    let hap_dir = Scratch::new("api-vs-haproxy");
    let (_haproxy, hap_sock) = start_haproxy(&hap_dir, &cfg);
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
