//! ACL compilation: sample expressions (`hdr(host),lower`), `acl` lines with
//! their flags and patterns, and `if|unless` conditions.
//!
//! Errors point at the word they are about; warnings mirror HAProxy's (an
//! ACL without patterns, a fetch that cannot work where it is used).

use std::sync::Arc;

use ahash::AHashMap;

use super::rules::{Names, ProxyScope};
use super::sample::suggest;
use super::term::compile_term;
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::expr::{Acl, AclTerm, Cond, CondAtom};
use crate::rules::fetch::Usage;

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
    /// Named ACLs by name (proxies may declare thousands).
    by_name: AHashMap<String, usize>,
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
        self.by_name.get(name).copied()
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
        // The name is registered even when its line has errors, so that the
        // rules using it do not report it again as unknown.
        let idx = match self.find(&name.text) {
            Some(i) => i,
            None => {
                self.acls.push(AclDraft {
                    name: name.text.clone(),
                    terms: Vec::new(),
                    usage: Usage::ANY,
                    restricting_fetch: None,
                });
                self.by_name.insert(name.text.clone(), self.acls.len() - 1);
                self.acls.len() - 1
            }
        };
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
            self.by_name.insert(name.to_string(), idx);
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
