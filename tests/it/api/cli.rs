//! Framing, prompt mode, levels, every error text, socket files, reloads.

use super::*;

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

#[test]
fn a_regular_file_in_the_way_is_not_replaced() {
    let scratch = Scratch::new("api-not-a-socket");
    let sock = scratch.write("admin.sock", "precious\n");
    let cfg = weights_cfg().replace("@SOCK@", &sock.display().to_string());
    let path = scratch.write("lb.cfg", &cfg);
    let program = Arc::new(lbd::reload::load_program(&[path]).expect("compile").program);
    let tables = Arc::new(Tables::new(program.tables.clone()));
    let refused = api::spawn(program, tables);
    assert!(matches!(refused, Err(api::ApiError::Bind { .. })));
    assert_eq!(
        std::fs::read_to_string(&sock).expect("still there"),
        "precious\n"
    );
}
