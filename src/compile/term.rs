//! One ACL term: `<criterion> [flags] [operator] [patterns]`, with the
//! patterns of `-f` files, compiled into a fetch and a pattern set.

use super::rules::{Names, ProxyScope};
use super::sample::{SampleContext, parse_sample_expr};
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::expr::AclTerm;
use crate::rules::fetch::Usage;
use crate::rules::pattern::{IntOp, MatchMethod, PatternSet};
use crate::rules::sample::SampleType;

/// Compiles `<criterion> [flags] [operator] [patterns]`.
pub fn compile_term(
    words: &[Word],
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<(AclTerm, Usage, String)> {
    let (criterion, rest) = words.split_first()?;
    let parsed = parse_sample_expr(criterion, SampleContext::Acl, scope, names, diags)?;
    let mut icase = false;
    let mut method = None;
    let mut files: Vec<&Word> = Vec::new();
    let mut i = 0;
    let mut explicit_end = false;
    while let Some(w) = rest.get(i) {
        let flag = w.text.as_str();
        if !flag.starts_with('-') || flag.len() < 2 || flag.as_bytes()[1].is_ascii_digit() {
            break;
        }
        i += 1;
        match flag {
            "-i" => icase = true,
            "-n" | "-u" => {}
            "--" => {
                explicit_end = true;
                break;
            }
            "-m" | "-f" | "-M" => {
                let Some(arg) = rest.get(i) else {
                    diags.push(Diagnostic::error(
                        w.span,
                        format!("'{flag}' expects an argument"),
                    ));
                    return None;
                };
                i += 1;
                match flag {
                    "-m" => match MatchMethod::from_keyword(&arg.text) {
                        Some(m) => method = Some((m, arg)),
                        None => {
                            let all = MatchMethod::ALL.map(MatchMethod::as_keyword).join(", ");
                            diags.push(Diagnostic::error(
                                arg.span,
                                format!(
                                    "unknown matching method '{}', expected one of {all}",
                                    arg.text
                                ),
                            ));
                            return None;
                        }
                    },
                    "-f" => files.push(arg),
                    _ => {
                        diags.push(Diagnostic::error(
                            w.span,
                            "map files ('-M') are not supported by lbd",
                        ));
                        return None;
                    }
                }
            }
            _ => {
                diags.push(Diagnostic::error(
                    w.span,
                    format!("unknown acl flag '{flag}', expected -i, -f, -m, -n, -u or --"),
                ));
                return None;
            }
        }
    }
    let method = match method {
        Some((m, word)) => {
            if !m.accepts(parsed.out) {
                diags.push(Diagnostic::error(
                    word.span,
                    format!(
                        "matching method '{}' cannot be used with '{}', which returns {}",
                        m.as_keyword(),
                        criterion.text,
                        article(parsed.out)
                    ),
                ));
                return None;
            }
            m
        }
        None => parsed
            .method
            .unwrap_or_else(|| MatchMethod::default_for(parsed.out)),
    };
    let mut set = PatternSet::new(method, icase);
    let mut ok = true;
    let mut j = i;
    while let Some(w) = rest.get(j) {
        j += 1;
        let is_int = matches!(method, MatchMethod::Int | MatchMethod::Len);
        let result = match IntOp::from_keyword(&w.text).filter(|_| is_int) {
            Some(op) => match rest.get(j) {
                Some(v) => {
                    j += 1;
                    set.add_int_op(op, &v.text).map_err(|e| (e, v.span))
                }
                None => Err((format!("'{}' expects a value after it", w.text), w.span)),
            },
            None => set.add(&w.text).map_err(|e| (e, w.span)),
        };
        if let Err((msg, span)) = result {
            diags.push(Diagnostic::error(span, msg));
            ok = false;
        }
    }
    for file in files {
        ok &= read_pattern_file(file, scope, &mut set, diags);
    }
    if !ok {
        return None;
    }
    set.finish();
    if set.is_empty() && method.takes_patterns() && !explicit_end {
        diags.push(Diagnostic::warning(
            criterion.span,
            format!("'{}' has no pattern to match against, so it never matches (add '--' to silence this, or use '-m found' or '-m bool')", criterion.text),
        ));
    }
    Some((
        AclTerm {
            expr: parsed.expr,
            patterns: set,
        },
        parsed.usage,
        parsed.fetch_name,
    ))
}

fn article(t: SampleType) -> String {
    match t {
        SampleType::Int | SampleType::Ip => format!("an {}", t.as_keyword()),
        _ => format!("a {}", t.as_keyword()),
    }
}

/// `-f <file>`: one pattern per line; blank lines and `#` comments skipped.
fn read_pattern_file(
    word: &Word,
    scope: &ProxyScope,
    set: &mut PatternSet,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let path = scope.base_dir.join(&word.text);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(
                word.span,
                format!("cannot read pattern file '{}': {e}", path.display()),
            ));
            return false;
        }
    };
    let mut ok = true;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(msg) = set.add(line) {
            diags.push(Diagnostic::error(
                word.span,
                format!("in pattern file '{}' line {}: {msg}", word.text, n + 1),
            ));
            ok = false;
        }
    }
    ok
}
