//! Which module may use which (style.md): a module never imports one that
//! runs later in the flow, and the data plane never sees the AST.

use std::path::{Path, PathBuf};

/// (module, crate paths it may name). A path is allowed when it starts with
/// one of the prefixes; the module may always name itself.
const RULES: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("clock", &[]),
    ("stats", &[]),
    ("stick", &["clock"]),
    ("rules", &["stick", "stats", "clock"]),
    ("compile", &["config", "rules", "stick", "stats", "clock"]),
    ("tls", &["compile::program", "clock"]),
    (
        "proxy",
        &[
            "compile::program",
            "rules",
            "stick",
            "stats",
            "tls",
            "clock",
        ],
    ),
    ("api", &["compile::program", "stick", "stats", "clock"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b` path named in `text`, expanding `crate::{a, b::c}`.
fn crate_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    paths.push(item.split_whitespace().next().unwrap_or(item).to_string());
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            paths.push(rest[..end].trim_end_matches(':').to_string());
        }
    }
    paths
}

#[test]
fn modules_only_use_what_the_design_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, allowed) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            files.push(single);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source file");
            for path in crate_paths(&text) {
                let own = path == *module || path.starts_with(&format!("{module}::"));
                let ok = own
                    || allowed
                        .iter()
                        .any(|a| path == *a || path.starts_with(&format!("{a}::")));
                if !ok {
                    violations.push(format!("{}: crate::{path}", file.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden imports:\n{}",
        violations.join("\n")
    );
}

#[test]
fn path_scanner_sees_grouped_imports() {
    assert_eq!(
        crate_paths("use crate::{config::ast, stick::TableId};\nlet x = crate::clock::now_ms();"),
        vec!["config::ast", "stick::TableId", "clock::now_ms"]
    );
}
