//! ACL compilation: sample expressions (`hdr(host),lower`), `acl` lines with
//! their flags and patterns, and `if|unless` conditions.
//!
//! Errors point at the word they are about; warnings mirror HAProxy's (an
//! ACL without patterns, a fetch that cannot work where it is used).

use std::sync::Arc;

use super::rules::{Names, ProxyScope};
use super::sample::{SampleContext, parse_sample_expr, suggest};
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::expr::{Acl, AclTerm, Cond, CondAtom};
use crate::rules::fetch::Usage;
use crate::rules::pattern::{IntOp, MatchMethod, PatternSet};
use crate::rules::sample::SampleType;

/// ACLs HAProxy predefines, as the `acl` line arguments they stand for.
const PREDEFINED: &[(&str, &[&str])] = &[
    ("TRUE", &["always_true"]),
    ("FALSE", &["always_false"]),
    ("LOCALHOST", &["src", "127.0.0.1/8", "::1"]),
    ("HTTP_1.0", &["req.ver", "1.0"]),
    ("HTTP_1.1", &["req.ver", "1.1"]),
    ("HTTP_CONTENT", &["hdr_val(content-length)", "gt", "0"]),
    ("HTTP_URL_ABS", &["url_reg", "^[^/:]*://"]),
    ("HTTP_URL_SLASH", &["url_beg", "/"]),
    ("HTTP_URL_STAR", &["url", "*"]),
    ("METH_CONNECT", &["method", "CONNECT"]),
    ("METH_DELETE", &["method", "DELETE"]),
    ("METH_GET", &["method", "GET", "HEAD"]),
    ("METH_HEAD", &["method", "HEAD"]),
    ("METH_OPTIONS", &["method", "OPTIONS"]),
    ("METH_POST", &["method", "POST"]),
    ("METH_PUT", &["method", "PUT"]),
    ("METH_TRACE", &["method", "TRACE"]),
];

/// Predefined ACLs lbd does not provide.
const UNSUPPORTED_PREDEFINED: &[&str] = &["HTTP", "RDP_COOKIE", "REQ_CONTENT", "WAIT_END"];

/// An ACL being compiled: its terms and, for usage warnings, the first fetch
/// that restricts where it works.
struct AclDraft {
    name: String,
    terms: Vec<AclTerm>,
    usage: Usage,
    restricting_fetch: Option<String>,
}

/// A condition whose ACLs are referenced by index until `finish`, so that a
/// named ACL extended after its first use is seen whole, as in HAProxy.
#[derive(Debug)]
pub struct CondDraft {
    unless: bool,
    alternatives: Vec<Vec<(bool, usize)>>,
}

/// The ACLs of one proxy.
#[derive(Default)]
pub struct AclSet {
    acls: Vec<AclDraft>,
}

/// Where a condition is used, for usage checks and messages.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext {
    pub usage: Usage,
    /// "tcp-request connection", "http-request", ...
    pub name: &'static str,
}

impl AclSet {
    fn find(&self, name: &str) -> Option<usize> {
        self.acls.iter().position(|a| a.name == name)
    }

    /// `acl <name> <criterion> [flags] [patterns]`.
    pub fn define(
        &mut self,
        line: &[Word],
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some((name, rest)) = line.split_first() else {
            return;
        };
        if let Some(bad) = name
            .text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
        {
            diags.push(Diagnostic::error(
                name.span,
                format!(
                    "acl name '{}' contains the invalid character '{bad}'",
                    name.text
                ),
            ));
            return;
        }
        if rest.is_empty() {
            diags.push(Diagnostic::error(
                name.span,
                format!("acl '{}' expects a fetch after its name", name.text),
            ));
            return;
        }
        let Some((term, usage, fetch)) = compile_term(rest, scope, names, diags) else {
            return;
        };
        let idx = match self.find(&name.text) {
            Some(i) => i,
            None => {
                self.acls.push(AclDraft {
                    name: name.text.clone(),
                    terms: Vec::new(),
                    usage: Usage::ANY,
                    restricting_fetch: None,
                });
                self.acls.len() - 1
            }
        };
        let draft = &mut self.acls[idx];
        draft.terms.push(term);
        if usage.0 & draft.usage.0 != draft.usage.0 {
            draft.usage = Usage(draft.usage.0 & usage.0);
            draft.restricting_fetch.get_or_insert(fetch);
        }
    }

    /// Parses `if|unless <cond>`; `words[0]` is the `if` or `unless`.
    pub fn condition(
        &mut self,
        words: &[Word],
        context: RuleContext,
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<CondDraft> {
        let (kw, rest) = words.split_first()?;
        let unless = kw.text == "unless";
        if rest.is_empty() {
            diags.push(Diagnostic::error(
                kw.span,
                format!("'{}' expects a condition", kw.text),
            ));
            return None;
        }
        let mut alternatives = vec![Vec::new()];
        let mut ok = true;
        let mut i = 0;
        while i < rest.len() {
            let w = &rest[i];
            i += 1;
            if w.text == "or" || w.text == "||" {
                if alternatives.last().is_some_and(Vec::is_empty) || i == rest.len() {
                    diags.push(Diagnostic::error(
                        w.span,
                        format!("'{}' expects a condition on each side", w.text),
                    ));
                    ok = false;
                }
                alternatives.push(Vec::new());
                continue;
            }
            let mut negate = false;
            let mut text = w.text.as_str();
            while let Some(t) = text.strip_prefix('!') {
                negate = !negate;
                text = t;
            }
            let target = if text.is_empty() {
                match rest.get(i) {
                    Some(next) => {
                        i += 1;
                        next
                    }
                    None => {
                        diags.push(Diagnostic::error(w.span, "'!' expects an acl after it"));
                        ok = false;
                        break;
                    }
                }
            } else {
                w
            };
            let name = if text.is_empty() {
                target.text.as_str()
            } else {
                text
            };
            let idx = if name == "{" {
                let Some(len) = rest[i..].iter().position(|x| x.text == "}") else {
                    diags.push(Diagnostic::error(
                        target.span,
                        "missing '}' to close this anonymous acl",
                    ));
                    return None;
                };
                let body = &rest[i..i + len];
                i += len + 1;
                if body.is_empty() {
                    diags.push(Diagnostic::error(
                        target.span,
                        "an anonymous acl expects a fetch between '{' and '}'",
                    ));
                    ok = false;
                    continue;
                }
                self.anonymous(body, scope, names, diags)
            } else {
                self.reference(name, target, scope, names, diags)
            };
            match idx {
                Some(idx) => {
                    self.check_usage(idx, target, name, context, diags);
                    if let Some(last) = alternatives.last_mut() {
                        last.push((negate, idx));
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(CondDraft {
            unless,
            alternatives,
        })
    }

    fn anonymous(
        &mut self,
        body: &[Word],
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<usize> {
        let (term, usage, fetch) = compile_term(body, scope, names, diags)?;
        let restricting = (usage != Usage::ANY).then_some(fetch);
        self.acls.push(AclDraft {
            name: String::new(),
            terms: vec![term],
            usage,
            restricting_fetch: restricting,
        });
        Some(self.acls.len() - 1)
    }

    /// A named ACL, a predefined one, or a fetch used as a boolean.
    fn reference(
        &mut self,
        name: &str,
        word: &Word,
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<usize> {
        if let Some(idx) = self.find(name) {
            return Some(idx);
        }
        if UNSUPPORTED_PREDEFINED.contains(&name) {
            diags.push(Diagnostic::error(
                word.span,
                format!("predefined acl '{name}' is not supported by lbd"),
            ));
            return None;
        }
        if let Some((_, args)) = PREDEFINED.iter().find(|(n, _)| *n == name) {
            let words: Vec<Word> = args
                .iter()
                .map(|a| Word {
                    text: (*a).to_string(),
                    span: word.span,
                })
                .collect();
            let idx = self.anonymous(&words, scope, names, diags)?;
            self.acls[idx].name = name.to_string();
            return Some(idx);
        }
        let candidates = self
            .acls
            .iter()
            .filter(|a| !a.name.is_empty())
            .map(|a| a.name.clone());
        let candidates: Vec<String> = candidates
            .chain(PREDEFINED.iter().map(|(n, _)| (*n).to_string()))
            .collect();
        let mut diag = Diagnostic::error(
            word.span,
            format!(
                "unknown acl '{name}' in {} '{}'",
                scope.kind.as_keyword(),
                scope.name
            ),
        );
        let is_fetch = crate::rules::fetch::all_names().any(|f| f == name);
        if is_fetch {
            diag = diag.with_help(format!(
                "'{name}' is a fetch: write '{{ {name} }}' to use it as an anonymous acl"
            ));
        } else if let Some(best) = suggest(name, candidates.iter().map(String::as_str)) {
            diag = diag.with_help(format!("did you mean '{best}'?"));
        }
        diags.push(diag);
        None
    }

    fn check_usage(
        &self,
        idx: usize,
        word: &Word,
        name: &str,
        context: RuleContext,
        diags: &mut Vec<Diagnostic>,
    ) {
        let acl = &self.acls[idx];
        if acl.usage.allows(context.usage) {
            return;
        }
        let fetch = acl.restricting_fetch.as_deref().unwrap_or("?");
        let what = if name == "{" {
            "anonymous acl".to_string()
        } else {
            format!("acl '{name}'")
        };
        diags.push(Diagnostic::warning(
            word.span,
            format!("{what} will never match in '{}' because it uses '{fetch}', which is not available there", context.name),
        ));
    }

    /// Turns drafts into shared ACLs and resolves the conditions.
    pub fn finish(self) -> Resolver {
        let acls = self
            .acls
            .into_iter()
            .map(|a| {
                Arc::new(Acl {
                    name: a.name.into(),
                    terms: a.terms,
                })
            })
            .collect();
        Resolver { acls }
    }
}

/// Resolves condition drafts once every ACL line has been read.
pub struct Resolver {
    acls: Vec<Arc<Acl>>,
}

impl Resolver {
    pub fn resolve(&self, draft: CondDraft) -> Cond {
        let alternatives = draft
            .alternatives
            .into_iter()
            .map(|and| {
                and.into_iter()
                    .filter_map(|(negate, idx)| {
                        self.acls.get(idx).map(|acl| CondAtom {
                            negate,
                            acl: acl.clone(),
                        })
                    })
                    .collect()
            })
            .collect();
        Cond {
            unless: draft.unless,
            alternatives,
        }
    }
}

/// Compiles `<criterion> [flags] [operator] [patterns]`.
fn compile_term(
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
