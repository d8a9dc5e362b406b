//! Rule lines of a proxy: `acl`, `tcp-request`, `http-request`,
//! `http-response` and `use_backend`, compiled into `rules::ProxyRules`.

use std::path::Path;

use super::acl::{AclSet, CondDraft, RuleContext};
use super::action::{ActionCx, parse_http_req, parse_http_res, parse_tcp};
use super::program::{Mode, ProxyId, ProxyKind, UseBackend, Userlist, UserlistId};
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;
use crate::rules::ProxyRules;
use crate::rules::action::{HttpReqAction, HttpResAction, Rule, TcpAction};
use crate::rules::ctx::Ctx;
use crate::rules::expr::select;
use crate::rules::fetch::Usage;
use crate::stick::{TableId, TableSpec};

/// Names the rules refer to, resolved by the compile driver (every proxy,
/// table and userlist is known before rules compile).
pub trait Names {
    /// A stick table by (proxy) name.
    fn table(&self, name: &str) -> Option<TableId>;
    fn table_spec(&self, id: TableId) -> &TableSpec;
    /// A proxy with the backend capability.
    fn backend(&self, name: &str) -> Option<ProxyId>;
    fn userlist(&self, name: &str) -> Option<UserlistId>;
    /// The users of a userlist (for `http_auth`).
    fn userlist_def(&self, id: UserlistId) -> &Userlist;
}

/// The proxy whose lines are being compiled.
pub struct ProxyScope<'a> {
    pub kind: ProxyKind,
    pub name: &'a str,
    pub mode: Mode,
    pub own_table: Option<TableId>,
    /// Directory that `-f` pattern files and `file` arguments are relative to.
    pub base_dir: &'a Path,
}

type Draft<A> = (A, Option<CondDraft>, bool);

/// Compiles the rule lines of one proxy, in order.
#[derive(Default)]
pub struct RuleCompiler {
    acls: AclSet,
    tcp_connection: Vec<Draft<TcpAction>>,
    tcp_content: Vec<Draft<TcpAction>>,
    inspect_delay_ms: Option<u64>,
    http_request: Vec<Draft<HttpReqAction>>,
    http_response: Vec<Draft<HttpResAction>>,
    use_backend: Vec<(ProxyId, Option<CondDraft>)>,
}

/// Splits a rule's words at its `if`/`unless`.
fn split_cond(words: &[Word]) -> (&[Word], &[Word]) {
    let at = words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
        .unwrap_or(words.len());
    words.split_at(at)
}

impl RuleCompiler {
    pub fn new() -> RuleCompiler {
        RuleCompiler::default()
    }

    /// Handles keywords `acl`, `tcp-request`, `http-request`, `http-response`,
    /// `use_backend`; returns false (and reports nothing) for any other.
    pub fn line(
        &mut self,
        line: &LineDecl,
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let kw = line.keyword();
        let args = line.args();
        match kw.text.as_str() {
            "acl" => {
                if args.is_empty() {
                    diags.push(Diagnostic::error(
                        kw.span,
                        "'acl' expects a name and a fetch",
                    ));
                } else {
                    self.acls.define(args, scope, names, diags);
                }
            }
            "tcp-request" => self.tcp_request(kw, args, scope, names, diags),
            "http-request" | "http-response" => self.http(kw, args, scope, names, diags),
            "use_backend" => self.use_backend(kw, args, scope, names, diags),
            _ => return false,
        }
        true
    }

    fn cond(
        &mut self,
        words: &[Word],
        context: RuleContext,
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<Option<CondDraft>, ()> {
        if words.is_empty() {
            return Ok(None);
        }
        self.acls
            .condition(words, context, scope, names, diags)
            .map(Some)
            .ok_or(())
    }

    fn tcp_request(
        &mut self,
        kw: &Word,
        args: &[Word],
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some((which, rest)) = args.split_first() else {
            diags.push(Diagnostic::error(
                kw.span,
                "'tcp-request' expects 'connection', 'content' or 'inspect-delay'",
            ));
            return;
        };
        let (usage, name) = match which.text.as_str() {
            "inspect-delay" => {
                match rest {
                    [t] => match parse_time_ms(&t.text) {
                        Some(ms) => self.inspect_delay_ms = Some(ms),
                        None => diags.push(Diagnostic::error(
                            t.span,
                            format!(
                                "'tcp-request inspect-delay' expects a time, got '{}'",
                                t.text
                            ),
                        )),
                    },
                    _ => diags.push(Diagnostic::error(
                        which.span,
                        "'tcp-request inspect-delay' expects exactly one time",
                    )),
                }
                return;
            }
            "connection" => (Usage::CONN, "tcp-request connection"),
            "content" => (Usage::CONTENT, "tcp-request content"),
            "session" => {
                diags.push(Diagnostic::error(
                    which.span,
                    "'tcp-request session' is not supported by lbd",
                ));
                return;
            }
            other => {
                diags.push(Diagnostic::error(which.span, format!("'tcp-request' expects 'connection', 'content' or 'inspect-delay', got '{other}'")));
                return;
            }
        };
        if usage == Usage::CONN && scope.kind == ProxyKind::Backend {
            diags.push(Diagnostic::error(which.span, format!("'tcp-request connection' is not allowed in backend '{}', which is not a frontend", scope.name)));
            return;
        }
        let (action_words, cond_words) = split_cond(rest);
        let cx = ActionCx {
            keyword: which,
            context: name,
            usage,
            scope,
            names,
        };
        let action = parse_tcp(action_words, &cx, diags);
        let context = RuleContext { usage, name };
        let Ok(cond) = self.cond(cond_words, context, scope, names, diags) else {
            return;
        };
        if let Some((action, is_final)) = action {
            let list = if usage == Usage::CONN {
                &mut self.tcp_connection
            } else {
                &mut self.tcp_content
            };
            list.push((action, cond, is_final));
        }
    }

    fn http(
        &mut self,
        kw: &Word,
        args: &[Word],
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) {
        let response = kw.text == "http-response";
        let (usage, name) = if response {
            (Usage::HTTP_RES, "http-response")
        } else {
            (Usage::HTTP_REQ, "http-request")
        };
        if scope.mode == Mode::Tcp {
            diags.push(Diagnostic::warning(
                kw.span,
                format!(
                    "'{name}' rules are ignored in {} '{}' as they require 'mode http'",
                    scope.kind.as_keyword(),
                    scope.name
                ),
            ));
        }
        let (action_words, cond_words) = split_cond(args);
        let cx = ActionCx {
            keyword: kw,
            context: name,
            usage,
            scope,
            names,
        };
        let context = RuleContext { usage, name };
        if response {
            let action = parse_http_res(action_words, &cx, diags);
            let Ok(cond) = self.cond(cond_words, context, scope, names, diags) else {
                return;
            };
            if let Some((a, f)) = action {
                warn_after_final(&self.http_response, kw, name, diags);
                self.http_response.push((a, cond, f));
            }
        } else {
            let action = parse_http_req(action_words, &cx, diags);
            let Ok(cond) = self.cond(cond_words, context, scope, names, diags) else {
                return;
            };
            if let Some((a, f)) = action {
                warn_after_final(&self.http_request, kw, name, diags);
                self.http_request.push((a, cond, f));
            }
        }
    }

    fn use_backend(
        &mut self,
        kw: &Word,
        args: &[Word],
        scope: &ProxyScope,
        names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) {
        if scope.kind == ProxyKind::Backend {
            diags.push(Diagnostic::warning(
                kw.span,
                format!(
                    "'use_backend' ignored because backend '{}' has no frontend capability",
                    scope.name
                ),
            ));
            return;
        }
        let (target, cond_words) = split_cond(args);
        let [name] = target else {
            let span = target.get(1).map_or(kw.span, |w| w.span);
            diags.push(Diagnostic::error(span, "'use_backend' expects a backend name, then optionally 'if' or 'unless' and a condition"));
            return;
        };
        let usage = if scope.mode == Mode::Http {
            Usage::HTTP_REQ
        } else {
            Usage::CONTENT
        };
        let context = RuleContext {
            usage,
            name: "use_backend",
        };
        let Ok(cond) = self.cond(cond_words, context, scope, names, diags) else {
            return;
        };
        if name.text.contains("%[") {
            diags.push(Diagnostic::error(
                name.span,
                "dynamic backend names ('%[...]') are not supported by lbd",
            ));
            return;
        }
        match names.backend(&name.text) {
            Some(id) => self.use_backend.push((id, cond)),
            None => diags.push(Diagnostic::error(
                name.span,
                format!(
                    "unable to find backend '{}' referenced by 'use_backend' in {} '{}'",
                    name.text,
                    scope.kind.as_keyword(),
                    scope.name
                ),
            )),
        }
    }

    pub fn finish(self) -> (ProxyRules, Vec<UseBackend>) {
        let resolver = self.acls.finish();
        fn rules<A>(drafts: Vec<Draft<A>>, r: &super::acl::Resolver) -> Vec<Rule<A>> {
            drafts
                .into_iter()
                .map(|(action, cond, _)| Rule {
                    action,
                    cond: cond.map(|c| r.resolve(c)),
                })
                .collect()
        }
        let proxy_rules = ProxyRules {
            tcp_connection: rules(self.tcp_connection, &resolver),
            inspect_delay_ms: self.inspect_delay_ms,
            tcp_content: rules(self.tcp_content, &resolver),
            http_request: rules(self.http_request, &resolver),
            http_response: rules(self.http_response, &resolver),
        };
        let use_backend = self
            .use_backend
            .into_iter()
            .map(|(backend, cond)| UseBackend {
                backend,
                cond: cond.map(|c| resolver.resolve(c)),
            })
            .collect();
        (proxy_rules, use_backend)
    }
}

/// HAProxy warns when a rule follows a final action without a condition.
fn warn_after_final<A>(list: &[Draft<A>], kw: &Word, name: &str, diags: &mut Vec<Diagnostic>) {
    if list
        .last()
        .is_some_and(|(_, cond, is_final)| *is_final && cond.is_none())
    {
        diags.push(Diagnostic::warning(kw.span, format!("previous '{name}' action is final and has no condition attached, so this rule is never used")));
    }
}

/// A time with HAProxy's units (`us ms s m h d`, milliseconds by default).
pub fn parse_time_ms(text: &str) -> Option<u64> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let value: u64 = text.get(..digits)?.parse().ok()?;
    let factor_us: u64 = match &text[digits..] {
        "us" => 1,
        "" | "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => return None,
    };
    Some(value.checked_mul(factor_us)?.div_ceil(1_000))
}

/// The backend a request goes to: the first `use_backend` whose condition
/// holds, else the default backend. (The data plane, which may not use
/// `compile::rules`, calls `rules::expr::select` the same way.)
pub fn select_backend(
    rules: &[UseBackend],
    default: Option<ProxyId>,
    ctx: &Ctx<'_>,
) -> Option<ProxyId> {
    select(
        rules.iter().map(|r| (r.backend, r.cond.as_ref())),
        default,
        ctx,
    )
}

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;
