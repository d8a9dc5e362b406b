use proptest::prelude::*;

use super::*;

fn parse(text: &str) -> ParsedFile {
    parse_file(FileId(0), text.as_bytes(), &|_| None)
}

fn messages(parsed: &ParsedFile) -> Vec<(u32, u32, &str)> {
    parsed
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.span.unwrap_or_default();
            (span.line, span.col, d.message.as_str())
        })
        .collect()
}

#[test]
fn sections_collect_their_lines() {
    let parsed =
        parse("global\n  maxconn 10\n\n# c\nfrontend web\n bind :80\n default_backend app\n");
    assert!(parsed.diagnostics.is_empty());
    let kinds: Vec<_> = parsed.sections.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SectionKind::Global, SectionKind::Frontend]);
    let web = &parsed.sections[1];
    assert_eq!(web.name.as_ref().map(|w| w.text.as_str()), Some("web"));
    assert_eq!(web.lines.len(), 2);
    assert_eq!(web.lines[1].keyword().text, "default_backend");
    assert_eq!(web.lines[1].args()[0].text, "app");
    assert_eq!(web.lines[1].span.line, 7);
    assert_eq!((web.lines[1].span.col, web.lines[1].span.len), (2, 19));
}

#[test]
fn headers_split_name_from_and_extra() {
    let parsed =
        parse("defaults base\ndefaults from base\nbackend b from base x\nbackend c from\n");
    let s = &parsed.sections;
    let text = |w: &Option<Word>| w.as_ref().map(|w| w.text.clone());
    assert_eq!(
        (text(&s[0].name), text(&s[0].from)),
        (Some("base".into()), None)
    );
    assert_eq!(
        (text(&s[1].name), text(&s[1].from)),
        (None, Some("base".into()))
    );
    assert_eq!(
        (text(&s[2].name), text(&s[2].from)),
        (Some("b".into()), Some("base".into()))
    );
    assert_eq!(s[2].extra[0].text, "x");
    assert_eq!(s[3].from, None);
    assert_eq!(s[3].extra[0].text, "from");
    assert_eq!((s[2].keyword_span.line, s[2].keyword_span.col), (3, 1));
}

#[test]
fn lines_before_any_section_are_errors() {
    let parsed = parse("  bogus x\nglobal\n");
    assert_eq!(
        messages(&parsed),
        [(1, 3, "unknown keyword 'bogus' out of section")]
    );
    assert_eq!(parsed.sections.len(), 1);
}

#[test]
fn every_bad_line_is_reported_in_order() {
    let parsed = parse("x\nfrontend f\n a \"b\n bind :80\n c 'd\n e \\x1\n");
    let lines: Vec<u32> = messages(&parsed).iter().map(|m| m.0).collect();
    assert_eq!(lines, [1, 3, 5, 6]);
    assert_eq!(parsed.sections[0].lines.len(), 1);
}

#[test]
fn crlf_tabs_and_missing_final_newline() {
    let parsed = parse("global\r\n\tmaxconn\t10\r\n\tnbthread 2");
    assert!(parsed.diagnostics.is_empty());
    let lines = &parsed.sections[0].lines;
    assert_eq!(lines[0].words[1].text, "10");
    assert_eq!(lines[1].words[1].text, "2");
    assert_eq!((lines[1].span.line, lines[1].span.col), (3, 2));
}

#[test]
fn empty_first_word_is_a_blank_line() {
    let parsed = parse("global\n  \"\" x\n");
    assert!(parsed.sections[0].lines.is_empty());
}

#[test]
fn invalid_utf8_and_nul_are_errors_with_positions() {
    let parsed = parse_file(FileId(0), b"global\n  a\xe9b\n  c\0\n  d\n", &|_| None);
    assert_eq!(
        messages(&parsed),
        [(2, 4, "invalid UTF-8 byte"), (3, 4, "stray NUL character")]
    );
    assert_eq!(parsed.sections[0].lines.len(), 1);
}

#[test]
fn long_lines_parse_in_linear_time() {
    let mut text = String::from("global\n k");
    text.push_str(&" x".repeat(200_000));
    text.push_str("\n k ");
    text.push_str(&"y".repeat(1_000_000));
    let parsed = parse(&text);
    assert_eq!(
        messages(&parsed)[0].2,
        "too many words, a line may have at most 64"
    );
    assert_eq!(parsed.sections[0].lines[0].words[1].span.len, 1_000_000);
}

proptest! {
    #[test]
    fn never_panics_and_spans_stay_in_their_line(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let parsed = parse_file(FileId(0), &bytes, &|n| Some(format!("{n} v")));
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.split('\n').collect();
        for line in parsed.sections.iter().flat_map(|s| &s.lines) {
            for word in &line.words {
                let span = word.span;
                let source = lines[span.line as usize - 1];
                prop_assert!(span.col >= 1 && span.len >= 1);
                prop_assert!((span.col - 1 + span.len) as usize <= source.chars().count());
            }
        }
    }

    #[test]
    fn quoted_words_round_trip(words in proptest::collection::vec("[ -~]{1,12}", 1..8)) {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{}'", w.replace('\'', "'\\''"))).collect();
        let text = format!("global\n {}\n", quoted.join(" "));
        let parsed = parse(&text);
        prop_assert!(parsed.diagnostics.is_empty());
        let got: Vec<&str> = parsed.sections[0].lines[0].words.iter().map(|w| w.text.as_str()).collect();
        prop_assert_eq!(got, words.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

#[test]
fn old_mac_line_endings_are_warned_about() {
    let parsed = parse("global\r  maxconn 1\r");
    assert_eq!(
        messages(&parsed),
        [(1, 10, "text after a carriage return is ignored")]
    );
    assert!(parsed.sections[0].lines.is_empty());
}

#[test]
fn conditional_blocks_keep_the_chosen_branch() {
    let text = "global\n.if 0\n a\n.elif 1\n b\n .if 1\n  c\n .endif\n.else\n d\n.endif\n e\n";
    let parsed = parse(text);
    assert_eq!(parsed.diagnostics, []);
    let kept: Vec<&str> = parsed.sections[0]
        .lines
        .iter()
        .map(|l| l.keyword().text.as_str())
        .collect();
    assert_eq!(kept, ["b", "c", "e"]);
}

#[test]
fn conditional_block_errors_match_haproxy() {
    let parsed = parse(
        "global\n.endif\n.if 1\n.else\n.else\n.elif 1\n.endif x\n.if bogus(x)\n.if 0\n 'q\n.alert \"stop\"\n.endif\n",
    );
    assert_eq!(
        messages(&parsed),
        [
            (2, 1, "lone '.endif' with no matching '.if'"),
            (5, 1, "'.else' after '.else' is not permitted"),
            (6, 1, "'.elif' after '.else' is not permitted"),
            (7, 8, "unexpected argument 'x' for '.endif'"),
            (
                8,
                5,
                "unparsable conditional expression 'bogus(x)' in '.if'"
            ),
            (10, 2, "unmatched quote"),
            (8, 1, "non-terminated '.if' block"),
        ]
    );
}

#[test]
fn warning_and_alert_directives_are_diagnostics() {
    let parsed = parse("global\n.warning \"w\"\n.alert a b\n.notice n\n.if 0\n.alert no\n.endif\n");
    assert_eq!(messages(&parsed), [(2, 1, "w"), (3, 1, "a b")]);
    assert_eq!(
        parsed.diagnostics[0].severity,
        crate::config::diag::Severity::Warning
    );
}
