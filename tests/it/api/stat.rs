//! `show stat`, `show info`, `show errors` and the stats page and Prometheus formatters.

use super::*;

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
    // One request's phases: 50 ms for the response, 52 in all.
    let phases = lbd::stats::Phases {
        queue_ms: 0,
        connect_ms: 1,
        response_ms: 50,
        total_ms: 52,
    };
    be.servers[0].state.counters.times.record(phases, 1);
    let server = api.cmd("show stat -1 4 -1");
    let cells: Vec<&str> = server
        .lines()
        .nth(1)
        .expect("server row")
        .split(',')
        .collect();
    // qtime..ttime (over the 7 responses counted: ceil(52 / 7) = 8), then
    // their maxima.
    assert_eq!(&cells[58..62], ["0", "1", "8", "8"], "{server}");
    assert_eq!(&cells[90..94], ["0", "1", "50", "52"], "{server}");

    // The same rows in-process and through the socket. A few columns are
    // clocks (`lastchg`, rates over the last second): the socket's answer
    // must equal a rendering taken just before or just after it.
    let agreed = (0..5).any(|_| {
        let before = api::format::stat_csv(&api.program);
        let got = api.cmd("show stat");
        let after = api::format::stat_csv(&api.program);
        got == format!("{before}\n") || got == format!("{after}\n")
    });
    assert!(agreed, "show stat differs from stat_csv");

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
        "haproxy_server_max_response_time_seconds{proxy=\"test1\",server=\"test1\"} 0.050000\n",
        "haproxy_server_total_time_average_seconds{proxy=\"test1\",server=\"test1\"} 0.001000\n",
    ] {
        assert!(
            text.contains(want),
            "prometheus text lacks {want:?}:\n{text}"
        );
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').expect("name and value");
        assert!(name.starts_with("haproxy_"), "{line}");
        // Counters and gauges are integers; times are seconds (`0.050000`).
        assert!(
            value.parse::<u64>().is_ok() || value.parse::<f64>().is_ok(),
            "{line}"
        );
    }

    let page_agrees = (0..5).any(|_| {
        let before = api::format::stat_csv(&api.program);
        let (kind, page) = api::format::page(&api.program, &api.tables, api::format::Page::Csv);
        let after = api::format::stat_csv(&api.program);
        kind == "text/plain" && (page == before || page == after)
    });
    assert!(page_agrees, "the ;csv page differs from stat_csv");
    let html = api::format::stats_html(&api.program, Some(5));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
    assert!(html.contains("<th colspan=\"16\">test1</th>"));
    assert!(html.contains("<td>FRONTEND</td><td>OPEN</td>"));
    assert!(html.contains("<td>test1</td><td>no check</td>"));
    assert!(html.ends_with("</body></html>\n"));
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
