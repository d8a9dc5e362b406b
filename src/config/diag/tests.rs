use std::path::PathBuf;

use super::*;
use crate::config::source::FileId;

fn sources(text: &str) -> SourceMap {
    let mut map = SourceMap::new();
    map.add(PathBuf::from("lb.cfg"), text.to_owned());
    map
}

fn span(line: u32, col: u32, len: u32) -> Span {
    Span {
        file: FileId(0),
        line,
        col,
        len,
    }
}

#[test]
fn error_with_help_caret_and_tildes() {
    let map = sources("frontend http\n    use_bakend app if is_api\n");
    let d = Diagnostic::error(
        span(2, 5, 10),
        "unknown keyword 'use_bakend' in frontend 'http'",
    )
    .with_help("did you mean 'use_backend'?");
    assert_eq!(
        render(&d, &map),
        "lb.cfg:2:5: unknown keyword 'use_bakend' in frontend 'http' (did you mean 'use_backend'?)\n    use_bakend app if is_api\n    ^~~~~~~~~~"
    );
}

#[test]
fn tabs_before_the_column_are_kept() {
    let map = sources("global\n\t \tnbthread x\r\n");
    let d = Diagnostic::warning(span(2, 13, 1), "odd");
    assert_eq!(
        render(&d, &map),
        "lb.cfg:2:13: warning: odd\n\t \tnbthread x\n\t \t         ^"
    );
}

#[test]
fn fatal_without_span_is_its_message() {
    let d = Diagnostic::fatal(None, "cannot read 'x.cfg': not found");
    assert_eq!(
        render(&d, &SourceMap::new()),
        "cannot read 'x.cfg': not found"
    );
}

#[test]
fn multibyte_characters_count_once() {
    let map = sources("global\n é é\n");
    let d = Diagnostic::error(span(2, 4, 1), "bad");
    assert_eq!(render(&d, &map), "lb.cfg:2:4: bad\n é é\n   ^");
}
