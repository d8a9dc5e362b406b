use super::*;

#[test]
fn semicolons_split_commands_unless_escaped() {
    assert_eq!(split_commands("a; b;c"), ["a", " b", "c"]);
    assert_eq!(split_commands("a\\;b"), ["a\\;b"]);
    assert_eq!(split_commands(""), [""]);
    assert_eq!(split_commands("a ; ; b"), ["a ", " ", " b"]);
}

#[test]
fn words_split_on_blanks_with_backslash_escapes() {
    assert_eq!(
        words("  show   table\tst_str key bob\\ smith "),
        ["show", "table", "st_str", "key", "bob smith"]
    );
    assert_eq!(
        words("get weight app/web1\\;x"),
        ["get", "weight", "app/web1;x"]
    );
    assert_eq!(words("a\\\\b"), ["a\\b"]);
    assert!(words("   ").is_empty());
}

#[test]
fn rows_derive_their_words_from_the_usage() {
    let words_of = |usage: &str| {
        ROWS.iter()
            .find(|r| r.usage == usage)
            .map(|r| r.words().collect::<Vec<_>>())
    };
    assert_eq!(
        words_of("show table <table> [<filter>]*"),
        Some(vec!["show", "table"])
    );
    assert_eq!(
        words_of("disable server (DEPRECATED)"),
        Some(vec!["disable", "server"])
    );
    assert_eq!(
        words_of("shutdown sessions server <bk>/<srv>"),
        Some(vec!["shutdown", "sessions", "server"])
    );
}

#[test]
fn help_is_haproxys_list_in_its_order() {
    let help = usage(&[], true);
    // HAProxy 2.6 answers 8981 bytes, the framing's newline included.
    assert_eq!(help.len(), 8980);
    assert!(help.starts_with("The following commands are valid at this level:\n  abort ssl ca-file <cafile>              : abort a transaction for a CA file\n"));
    assert!(help.ends_with("  user                                    : lower the level of the current CLI session to user\n  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n"));
    assert!(help.contains("\n  set severity-output [none|number|string]: set presence of severity level in feedback information\n"));
}

#[test]
fn help_on_words_lists_the_matching_commands() {
    let args = ["show".to_string(), "table".to_string()];
    assert_eq!(
        usage(&args, true),
        "The following commands are valid at this level:\n  show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)\n  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n"
    );
}

#[test]
fn unknown_commands_suggest_close_ones() {
    let answer = usage(&["get".to_string(), "wieght".to_string()], false);
    assert_eq!(
        answer,
        "Unknown command, but maybe one of the following ones is a better match:\n  get weight <bk>/<srv>                   : report a server's current weight\n  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n"
    );
    assert!(usage(&[], false).starts_with(messages::UNKNOWN_EMPTY));
}

#[test]
fn fingerprints_count_transitions_and_presence() {
    let mut a = Fingerprint::default();
    a.add("ab");
    let mut b = Fingerprint::default();
    b.add("ab");
    assert_eq!(a.distance(&b), 0);
    let mut c = Fingerprint::default();
    c.add("ba");
    // begin→a, a→b, b→end differ from begin→b, b→a, a→end; presence agrees.
    assert_eq!(a.distance(&c), 6);
}
