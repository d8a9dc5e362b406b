use std::fs;
use std::path::PathBuf;

use super::*;
use crate::config::diag::Severity;

/// A fresh directory under the target dir, unique per test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lbd-load-{}-{name}", std::process::id()));
    let _removed = fs::remove_dir_all(&dir).is_ok();
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
    dir
}

fn write(path: &PathBuf, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
}

#[test]
fn directory_loads_cfg_files_in_name_order() {
    let dir = temp_dir("dir");
    write(&dir.join("b.cfg"), "backend b\n");
    write(&dir.join("a.cfg"), "frontend a\n");
    write(&dir.join("B.cfg"), "backend upper\n");
    write(&dir.join(".hidden.cfg"), "backend hidden\n");
    write(&dir.join("c.conf"), "backend conf\n");
    let loaded = load_with_env(std::slice::from_ref(&dir), &|_| None);
    let names: Vec<String> = loaded
        .config
        .sections
        .iter()
        .filter_map(|s| s.name.as_ref().map(|w| w.text.clone()))
        .collect();
    assert_eq!(names, ["upper", "a", "b"]);
    assert!(loaded.diagnostics.is_empty());
    fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cleanup: {e}"));
}

#[test]
fn missing_file_is_fatal_and_names_the_path() {
    let dir = temp_dir("missing");
    let good = dir.join("good.cfg");
    write(&good, "global\n");
    let loaded = load_with_env(&[good, dir.join("nope.cfg")], &|_| None);
    assert_eq!(loaded.config.sections.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.severity, Severity::Fatal);
    assert!(d.message.contains("nope.cfg"), "{}", d.message);
    assert!(loaded.has_errors());
    fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cleanup: {e}"));
}

#[test]
fn each_file_starts_outside_any_section() {
    let dir = temp_dir("boundary");
    write(&dir.join("1.cfg"), "global\n");
    write(&dir.join("2.cfg"), "maxconn 10\n");
    let loaded = load_with_env(std::slice::from_ref(&dir), &|_| None);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.message, "unknown keyword 'maxconn' out of section");
    assert_eq!(d.span.map(|s| s.file.0), Some(1));
    fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cleanup: {e}"));
}

#[test]
fn parse_bytes_uses_the_given_environment() {
    let loaded = parse_bytes("t.cfg", b"global\n k \"$X\"\n", &|n| {
        (n == "X").then(|| "v".into())
    });
    assert_eq!(loaded.config.sections[0].lines[0].words[1].text, "v");
    assert_eq!(
        parse_str("t.cfg", "global\n k \"$X\"\n").config.sections[0].lines[0].words[1].text,
        ""
    );
}

#[test]
fn valid_corpus_parses_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grammar/corpus/valid");
    let loaded = load_with_env(std::slice::from_ref(&dir), &|_| None);
    assert!(loaded.config.sections.len() >= 8);
    assert_eq!(loaded.diagnostics, []);
    let files = [dir.join("conditions.cfg"), dir.join("quoting.cfg")];
    let loaded = load_with_env(&files, &|_| None);
    let maxconn: Vec<&str> = loaded
        .config
        .sections
        .iter()
        .flat_map(|s| &s.lines)
        .filter(|l| l.keyword().text == "maxconn")
        .map(|l| l.args()[0].text.as_str())
        .collect();
    // conditions.cfg keeps only its `.elif` branch; quoting.cfg has 100.
    assert_eq!(maxconn, ["500", "100"]);
}
