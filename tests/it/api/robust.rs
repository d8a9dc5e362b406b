//! Hostile clients and arbitrary input.

use super::*;

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
