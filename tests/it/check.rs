//! `lbd -c` on the grammar corpus, the reference configs and HAProxy's own
//! examples; and, where haproxy is installed, agreement with `haproxy -c`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Scratch, check, have};

/// What a corpus file says about itself in `# error:` and `# haproxy:` lines.
struct Expectation {
    /// `line:col: message-prefix` of every error lbd must report.
    errors: Vec<String>,
    /// `valid`/`invalid` when haproxy's verdict differs from lbd's (a
    /// keyword HAProxy has that lbd does not support).
    haproxy: Option<bool>,
}

fn expectation(text: &str) -> Expectation {
    let mut errors = Vec::new();
    let mut haproxy = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(e) = line.strip_prefix("# error:") {
            errors.push(e.trim().to_string());
        } else if let Some(h) = line.strip_prefix("# haproxy:") {
            haproxy = Some(h.trim() == "valid");
        }
    }
    Expectation { errors, haproxy }
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("grammar/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
}

/// Runs `lbd -c` on a corpus file from the corpus directory (relative file
/// names in the configs resolve from there).
fn lbd_check(file: &Path) -> (bool, String) {
    let dir = file.parent().expect("corpus file has a directory");
    let out = check(dir, &[file]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn haproxy_valid(file: &Path) -> bool {
    let dir = file.parent().expect("corpus file has a directory");
    Command::new("haproxy")
        .current_dir(dir)
        .args(["-c", "-q", "-f"])
        .arg(file)
        .output()
        .expect("run haproxy -c")
        .status
        .code()
        // 2: valid, but nothing to listen on.
        .is_some_and(|c| c == 0 || c == 2)
}

#[test]
fn valid_corpus_checks_clean() {
    for file in corpus("valid") {
        let (ok, stderr) = lbd_check(&file);
        assert!(ok, "{} should be valid:\n{stderr}", file.display());
    }
}

#[test]
fn invalid_corpus_reports_every_expected_error_at_its_place() {
    for file in corpus("invalid") {
        let text = std::fs::read_to_string(&file).expect("read corpus file");
        let expect = expectation(&text);
        assert!(
            !expect.errors.is_empty(),
            "{} names no '# error:'",
            file.display()
        );
        let (ok, stderr) = lbd_check(&file);
        assert!(!ok, "{} should be invalid", file.display());
        let name = file.display().to_string();
        for error in &expect.errors {
            let wanted = format!("{name}:{error}");
            assert!(
                stderr.lines().any(|l| l.starts_with(&wanted)),
                "{}: missing '{wanted}' in:\n{stderr}",
                file.display()
            );
        }
    }
}

#[test]
fn haproxy_agrees_on_every_corpus_file() {
    if !have("haproxy") {
        eprintln!("skipped: haproxy is not installed");
        return;
    }
    for file in corpus("valid").into_iter().chain(corpus("invalid")) {
        let text = std::fs::read_to_string(&file).expect("read corpus file");
        let (lbd_ok, stderr) = lbd_check(&file);
        let expected = expectation(&text).haproxy.unwrap_or(lbd_ok);
        assert_eq!(
            haproxy_valid(&file),
            expected,
            "haproxy -c disagrees on {} (lbd says valid={lbd_ok}):\n{stderr}",
            file.display()
        );
    }
}

/// Every error line must be "not supported by lbd" naming a keyword.
fn only_unsupported(stderr: &str) -> bool {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(".cfg:") && !l.contains(": warning: "))
        .collect();
    errors
        .iter()
        .all(|l| l.contains("not supported by lbd") && l.contains('\''))
}

#[test]
fn reference_configs_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/configs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    };
    let scratch = Scratch::new("refs");
    for entry in entries {
        let file = entry.expect("dir entry").path();
        if file.extension().is_none_or(|x| x != "cfg") {
            continue;
        }
        let out = check(&scratch.path, &[&file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}:\n{stderr}", file.display());
    }
}

#[test]
fn haproxy_examples_fail_only_on_unsupported_keywords() {
    let dir = Path::new("/usr/share/doc/haproxy/examples");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("skipped: haproxy's examples are not installed");
        return;
    };
    let scratch = Scratch::new("examples");
    for entry in entries {
        let file = entry.expect("dir entry").path();
        if file.extension().is_none_or(|x| x != "cfg") {
            continue;
        }
        let out = check(&scratch.path, &[&file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || only_unsupported(&stderr),
            "{} fails for another reason than an unsupported keyword:\n{stderr}",
            file.display()
        );
    }
}

#[test]
fn shipped_examples_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["hello.cfg", "lb.cfg"] {
        let out = check(&dir, &[&dir.join(name)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "examples/{name}:\n{stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Configuration file is valid\n"
        );
    }
}

#[test]
fn all_problems_of_a_file_are_reported_with_a_caret() {
    let scratch = Scratch::new("carets");
    let file = scratch.write(
        "lb.cfg",
        "frontend http\n    bind 127.0.0.1:8080\n    use_bakend app\n\ttimeout client 5x\nbackend app\n    server s1 127.0.0.1:1 weight 1000\n",
    );
    let out = check(&scratch.path, &[&file]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = file.display();
    let expected = format!(
        "{path}:3:5: unknown keyword 'use_bakend' in frontend 'http' (did you mean 'use_backend'?)\n    use_bakend app\n    ^~~~~~~~~~\n"
    );
    assert!(stderr.starts_with(&expected), "got:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "{path}:4:17: 'timeout client' expects a time, got '5x'"
        )),
        "got:\n{stderr}"
    );
    assert!(
        stderr.contains("\ttimeout client 5x\n\t               ^~\n"),
        "tab kept before the caret:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{path}:6:34: 'weight' expects an integer between 0 and 256, got '1000'"
        )),
        "got:\n{stderr}"
    );
}

#[test]
fn files_and_directories_load_in_order() {
    let scratch = Scratch::new("dirs");
    scratch.write(
        "conf.d/20-backend.cfg",
        "backend app\n    server s1 127.0.0.1:1\n",
    );
    scratch.write(
        "conf.d/10-frontend.cfg",
        "frontend www\n    bind 127.0.0.1:1\n    default_backend app\n",
    );
    scratch.write("conf.d/ignored.txt", "this is not a config\n");
    let main = scratch.write("a.cfg", "global\n    maxconn 100\n");
    let dir = scratch.path.join("conf.d");
    let out = check(&scratch.path, &[&main, &dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn version_and_help() {
    let out = Command::new(crate::harness::lbd_bin())
        .arg("-V")
        .output()
        .expect("run lbd -V");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = Command::new(crate::harness::lbd_bin())
        .arg("--help")
        .output()
        .expect("run lbd --help");
    assert!(String::from_utf8_lossy(&out.stdout).contains("-f <FILE|DIR>"));
}
