//! `show table`, `set table`, `clear table`.

use super::*;

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
