//! Expected values below were checked with `haproxy -c` (2.6.12) using
//! `.notice` lines, run with FOO=foo, BAR="a  b", EMPTY= in the environment.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "FOO" => Some("foo".into()),
        "BAR" => Some("a  b".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

const POS: LinePos = LinePos {
    file: FileId(0),
    line: 7,
};

fn words(line: &str) -> Vec<String> {
    match split_line(line, POS, &env) {
        Ok(split) => split.words.into_iter().map(|w| w.text).collect(),
        Err(d) => panic!("unexpected error {d:?} for {line:?}"),
    }
}

fn error(line: &str) -> (u32, u32, String) {
    match split_line(line, POS, &env) {
        Ok(w) => panic!("expected an error for {line:?}, got {w:?}"),
        Err(d) => {
            let span = d.span.unwrap_or_default();
            (span.col, span.len, d.message)
        }
    }
}

#[test]
fn blanks_separate_words() {
    assert_eq!(
        words("  bind  :80\tssl \x0bx\x0cy"),
        ["bind", ":80", "ssl", "x", "y"]
    );
    assert!(words("   ").is_empty());
    assert!(words("").is_empty());
}

#[test]
fn comments_start_at_unquoted_hash() {
    assert_eq!(words("a # b"), ["a"]);
    assert_eq!(words("x#y"), ["x"]);
    assert_eq!(words(r#""a#b" '#' \# c"#), ["a#b", "#", "#", "c"]);
    assert_eq!(words(r"\\\#x#y"), [r"\#x"]);
}

#[test]
fn quotes_join_adjacent_text() {
    assert_eq!(words(r#"a"b c"d"#), ["ab cd"]);
    assert_eq!(words(r#"a""b"#), ["ab"]);
    assert_eq!(
        words(r#"log-format "%{+Q}o %t"' %s'\ %{-Q}r"#),
        ["log-format", "%{+Q}o %t %s %{-Q}r"]
    );
}

#[test]
fn single_quotes_are_literal() {
    assert_eq!(words(r#"'\x41"$FOO'"#), [r#"\x41"$FOO"#]);
    assert_eq!(words(r"'a\'"), [r"a\"]);
}

#[test]
fn escapes_outside_quotes() {
    assert_eq!(
        words(r#"a\ b \\ \' \" \t\n\r"#),
        ["a b", "\\", "'", "\"", "\t\n\r"]
    );
    assert_eq!(words(r"a\qb a\$b$FOO a\"), [r"a\qb", r"a\$b$FOO", r"a\"]);
    assert_eq!(words(r"\x41\xc3\xa9"), ["Aé"]);
    // `\<TAB>` is not an escape in HAProxy 2.6, whatever the manual says.
    assert_eq!(words("a\\\tb"), ["a\\", "b"]);
}

#[test]
fn escapes_inside_double_quotes() {
    assert_eq!(words(r#""\q\x41\t|""#), ["\\qA\t|"]);
    assert_eq!(words(r#""a\$b" "\"" "\'""#), ["a$b", "\"", "'"]);
    assert_eq!(words("\"a\\\tb\""), ["a\\\tb"]);
}

#[test]
fn environment_expands_only_in_double_quotes() {
    assert_eq!(
        words(r#""x${FOO}y" $FOO ${FOO}"#),
        ["xfooy", "$FOO", "${FOO}"]
    );
    assert_eq!(words(r#""$FOO.${FOO}x""#), ["foo.foox"]);
    assert_eq!(words(r#""[$NOPE]""#), ["[]"]);
    assert_eq!(words(r#""[${BAR}]""#), ["[a  b]"]);
}

#[test]
fn environment_defaults_replace_only_unset() {
    assert_eq!(words(r#""${NOPE-def ault}""#), ["def ault"]);
    assert_eq!(words(r#""[${EMPTY-d}]""#), ["[]"]);
    assert_eq!(words(r#""${FOO-a}b}""#), ["foob}"]);
    assert_eq!(words(r#""${NOPE-a"b}""#), ["a\"b"]);
    assert_eq!(words(r#""${NOPE-\x41}""#), [r"\x41"]);
}

#[test]
fn word_expansion_splits_on_blanks() {
    assert_eq!(words(r#"k "[${BAR[*]}]""#), ["k", "[a", "b]"]);
    let all = split_line(r#"k "${BAR[*]}""#, POS, &env)
        .unwrap_or_default()
        .words;
    assert_eq!(all[1].span, all[2].span);
}

#[test]
fn errors_point_at_their_column() {
    assert_eq!(
        error(r#"  .notice "unterminated"#),
        (11, 1, "unmatched quote".into())
    );
    assert_eq!(error("  .notice 'abc").0, 11);
    assert_eq!(error(r"  .notice \x4").0, 11);
    assert_eq!(error(r#"  .notice "\x0""#).0, 12);
    assert_eq!(error(r#"  .notice "${FOO""#).0, 13);
    let (col, _, msg) = error(r#"  .notice "$1""#);
    assert_eq!(
        (col, msg.as_str()),
        (13, "forbidden first char in environment variable name")
    );
    assert_eq!(error(r#"  .notice "$""#).0, 13);
    assert_eq!(error(r#"  .notice "${FOO[x]}""#).0, 17);
    assert_eq!(error("a\0b").2, "stray NUL character");
    assert_eq!(error(r"\xff").2, "escape sequences produce invalid UTF-8");
}

#[test]
fn carriage_return_ends_the_line() {
    assert_eq!(words("a\rb c"), ["a"]);
    let split = split_line("a \r b", POS, &env).unwrap_or_default();
    let warning = split.warning.map(|w| (w.span.map(|s| s.col), w.message));
    assert_eq!(
        warning,
        Some((Some(5), "text after a carriage return is ignored".into()))
    );
    assert_eq!(split_line("a\r", POS, &env).map(|s| s.warning), Ok(None));
    assert_eq!(split_line("a #\rb", POS, &env).map(|s| s.warning), Ok(None));
    assert_eq!(error("\"a\rb\"").0, 1);
}

#[test]
fn spans_count_characters_and_cover_quotes() {
    let w = split_line("\tbé \"x y\"z  ${A}", POS, &env)
        .unwrap_or_default()
        .words;
    let spans: Vec<(u32, u32)> = w.iter().map(|w| (w.span.col, w.span.len)).collect();
    assert_eq!(spans, [(2, 2), (5, 6), (13, 4)]);
    assert_eq!(w[0].span.line, 7);
}

#[test]
fn too_many_words_is_an_error() {
    let line: Vec<String> = (0..70).map(|i| i.to_string()).collect();
    assert_eq!(
        split_line(&line.join(" "), POS, &env)
            .map(|s| s.words.len())
            .ok(),
        None
    );
    assert_eq!(words(&line[..64].join(" ")).len(), 64);
}

/// Runs the real `haproxy -c` on `.notice <word>` and returns the word it
/// printed, or `None` when haproxy is not installed.
fn haproxy_word(case: &str, dir: &std::path::Path) -> Option<String> {
    let path = dir.join("notice.cfg");
    std::fs::write(&path, format!("global\n  .notice {case}\n")).ok()?;
    let out = std::process::Command::new("haproxy")
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([("FOO", "foo"), ("BAR", "a  b"), ("EMPTY", "")])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let start = stderr.find(":2]: '")? + 6;
    let end = stderr[start..].rfind("'.")? + start;
    Some(stderr[start..end].to_owned())
}

#[test]
fn single_words_match_real_haproxy() {
    let cases = [
        r#"a"b c"d"#,
        r"\\\#x#y",
        r#""[${EMPTY-d}]""#,
        r#""[${BAR}]""#,
        r#""a\$b""#,
        r"a\$b$FOO",
        r#""$FOO.${FOO}x""#,
        r#""\q\x41\t|""#,
        r#"'\x41"$FOO'"#,
        r#""${FOO-a}b}""#,
        r#""${NOPE-a"b}""#,
        r"\x41\xc3\xa9",
        r#""a#b""#,
        r"a\",
        r#"a\ b"c\"d"'e\'"#,
    ];
    let dir = std::env::temp_dir().join(format!("lbd-lexer-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() || haproxy_word("x", &dir).is_none() {
        eprintln!("skipped: haproxy not available");
        return;
    }
    for case in cases {
        assert_eq!(
            haproxy_word(case, &dir),
            Some(words(case).concat()),
            "case {case}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cleanup: {e}"));
}
