//! Rule actions: the words between the rule keyword and its `if`/`unless`.

use std::sync::Arc;

use regex::bytes::Regex;

use super::counter::{counter_action, no_more, value_expr};
use super::logformat::parse_log_format;
use super::rules::{Names, ProxyScope};
use super::sample::suggest;
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::action::{
    HeaderEdit, HttpReqAction, HttpResAction, RedirectKind, Service, TcpAction,
};
use crate::rules::fetch::Usage;
use crate::rules::logformat::LogFormat;

/// What every action parser needs.
pub struct ActionCx<'a> {
    /// The word errors about the whole rule point at.
    pub keyword: &'a Word,
    /// "tcp-request connection", "http-request", ...
    pub context: &'static str,
    pub usage: Usage,
    pub scope: &'a ProxyScope<'a>,
    pub names: &'a dyn Names,
}

const TCP_ACTIONS: &[&str] = &[
    "accept",
    "reject",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "sc-inc-gpc0(<n>)",
    "sc-inc-gpc1(<n>)",
    "sc-set-gpt0(<n>)",
];
const TCP_UNSUPPORTED: &[&str] = &[
    "silent-drop",
    "set-var",
    "unset-var",
    "set-var-fmt",
    "capture",
    "expect-proxy",
    "expect-netscaler-cip",
    "set-src",
    "set-dst",
    "set-src-port",
    "set-dst-port",
    "set-mark",
    "set-tos",
    "set-nice",
    "set-log-level",
    "do-resolve",
    "send-spoe-group",
    "switch-mode",
    "close",
    "lua",
    "use-service",
    "set-priority-class",
    "set-priority-offset",
    "sc-inc-gpc",
    "sc-set-gpt",
    "track-sc",
    "set-bandwidth-limit",
    "attach-srv",
];
const HTTP_REQ_ACTIONS: &[&str] = &[
    "allow",
    "reject",
    "deny",
    "tarpit",
    "redirect",
    "set-header",
    "add-header",
    "del-header",
    "replace-header",
    "set-path",
    "set-var(<scope>.<name>)",
    "return",
    "auth",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "sc-inc-gpc0(<n>)",
    "sc-inc-gpc1(<n>)",
    "sc-set-gpt0(<n>)",
    "use-service",
];
const HTTP_UNSUPPORTED: &[&str] = &[
    "wait-for-handshake",
    "set-log-level",
    "set-nice",
    "send-spoe-group",
    "do-resolve",
    "cache-use",
    "cache-store",
    "add-acl",
    "capture",
    "del-acl",
    "del-map",
    "disable-l7-retry",
    "early-hint",
    "normalize-uri",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "replace-value",
    "set-map",
    "set-method",
    "set-pathq",
    "set-query",
    "set-uri",
    "strict-mode",
    "set-timeout",
    "wait-for-body",
    "set-var-fmt",
    "unset-var",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-src",
    "set-src-port",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
    "sc-inc-gpc",
    "sc-set-gpt",
    "track-sc",
    "set-status",
    "set-bandwidth-limit",
    "lua",
];
const HTTP_RES_ACTIONS: &[&str] = &[
    "allow",
    "deny",
    "set-header",
    "add-header",
    "del-header",
    "replace-header",
    "set-var(<scope>.<name>)",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "sc-inc-gpc0(<n>)",
    "sc-inc-gpc1(<n>)",
    "sc-set-gpt0(<n>)",
];

/// Reports an error at `word` and gives up on the rule.
pub(super) fn fail<T>(diags: &mut Vec<Diagnostic>, word: &Word, msg: String) -> Option<T> {
    diags.push(Diagnostic::error(word.span, msg));
    None
}

/// Reports an action name that is not one of `known`.
fn unknown_action(
    word: &Word,
    cx: &ActionCx,
    known: &[&str],
    unsupported: &[&str],
    diags: &mut Vec<Diagnostic>,
) {
    let base = word.text.split('(').next().unwrap_or("");
    let mut d = if unsupported.contains(&base) {
        Diagnostic::error(
            word.span,
            format!("'{} {}' is not supported by lbd", cx.context, word.text),
        )
    } else {
        let list = known
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        Diagnostic::error(
            word.span,
            format!(
                "'{}' expects one of {list}, got '{}'",
                cx.context, word.text
            ),
        )
    };
    let plain = known.iter().map(|k| k.split('(').next().unwrap_or(k));
    if !unsupported.contains(&base)
        && let Some(best) = suggest(base, plain)
    {
        d = d.with_help(format!("did you mean '{best}'?"));
    }
    diags.push(d);
}

/// `accept`, `reject` and the counter actions of `tcp-request`.
pub fn parse_tcp(
    words: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(TcpAction, bool)> {
    let Some((first, rest)) = words.split_first() else {
        diags.push(Diagnostic::error(
            cx.keyword.span,
            format!("'{}' expects an action", cx.context),
        ));
        return None;
    };
    match first.text.as_str() {
        "accept" | "reject" => {
            no_more(rest, first, diags)?;
            let action = if first.text == "accept" {
                TcpAction::Accept
            } else {
                TcpAction::Reject
            };
            Some((action, true))
        }
        _ => match counter_action(first, rest, cx, diags) {
            Some(Some(c)) => Some((TcpAction::Counter(c), false)),
            Some(None) => None,
            None => {
                unknown_action(first, cx, TCP_ACTIONS, TCP_UNSUPPORTED, diags);
                None
            }
        },
    }
}

/// `<scope>.<name>` of `set-var(...)`.
fn var_name(first: &Word, diags: &mut Vec<Diagnostic>) -> Option<Box<str>> {
    let inner = first
        .text
        .strip_prefix("set-var(")
        .and_then(|t| t.strip_suffix(')'))?;
    let scope = inner.split_once('.').map(|(s, _)| s);
    if !matches!(scope, Some("proc" | "sess" | "txn" | "req" | "res")) || inner.ends_with('.') {
        diags.push(Diagnostic::error(
            first.span,
            format!("invalid variable name '{inner}': it must start with its scope, one of 'proc', 'sess', 'txn', 'req' or 'res', as in 'txn.name'"),
        ));
        return None;
    }
    Some(inner.into())
}

fn log_format(word: &Word, cx: &ActionCx, diags: &mut Vec<Diagnostic>) -> Option<LogFormat> {
    parse_log_format(word, cx.usage, cx.context, cx.scope, cx.names, diags)
}

/// Header edits shared by both directions; `None` when `first` is not one.
fn header_edit(
    first: &Word,
    rest: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<HeaderEdit>> {
    let a = first.text.as_str();
    let want = match a {
        "set-header" | "add-header" => 2,
        "del-header" => 1,
        "replace-header" => 3,
        _ => return None,
    };
    if rest.len() != want {
        let expects = match want {
            1 => "a header name",
            2 => "a header name and a value",
            _ => "a header name, a regex and a replacement",
        };
        diags.push(Diagnostic::error(
            rest.get(want).unwrap_or(first).span,
            format!("'{a}' expects {expects}"),
        ));
        return Some(None);
    }
    let name: Box<[u8]> = rest[0].text.as_bytes().into();
    Some(match a {
        "set-header" => {
            log_format(&rest[1], cx, diags).map(|value| HeaderEdit::Set { name, value })
        }
        "add-header" => {
            log_format(&rest[1], cx, diags).map(|value| HeaderEdit::Add { name, value })
        }
        "del-header" => Some(HeaderEdit::Del { name }),
        _ => {
            let regex = match Regex::new(&rest[1].text) {
                Ok(r) => r,
                Err(e) => {
                    let msg = e.to_string();
                    let reason = msg.lines().last().unwrap_or("").trim().to_string();
                    diags.push(Diagnostic::error(
                        rest[1].span,
                        format!("regex '{}' is invalid ({reason})", rest[1].text),
                    ));
                    return Some(None);
                }
            };
            log_format(&rest[2], cx, diags).map(|replace| HeaderEdit::Replace {
                name,
                regex,
                replace,
            })
        }
    })
}

/// Parses `[<kw> <status>]` where only `allowed` codes may be given.
fn status_arg(
    rest: &[Word],
    kw: &str,
    default: u16,
    allowed: &[u16],
    diags: &mut Vec<Diagnostic>,
) -> Option<u16> {
    match rest {
        [] => Some(default),
        // HAProxy 2.2+ also takes `status` for `deny_status`.
        [k, v] if k.text == kw || k.text == "status" => match v.text.parse::<u16>() {
            Ok(code) if allowed.contains(&code) => Some(code),
            _ => {
                let list = allowed
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                diags.push(Diagnostic::error(
                    v.span,
                    format!(
                        "unexpected status code '{}', expected one of {list}",
                        v.text
                    ),
                ));
                None
            }
        },
        [w, ..] => {
            diags.push(Diagnostic::error(w.span, format!("unexpected '{}', expected '{kw} <code>', 'if', 'unless' or the end of the line", w.text)));
            None
        }
    }
}

const ERROR_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

pub fn parse_http_req(
    words: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(HttpReqAction, bool)> {
    let Some((first, rest)) = words.split_first() else {
        diags.push(Diagnostic::error(
            cx.keyword.span,
            format!("'{}' expects an action", cx.context),
        ));
        return None;
    };
    if let Some(edit) = header_edit(first, rest, cx, diags) {
        return edit.map(|e| (HttpReqAction::Header(e), false));
    }
    if let Some(counter) = counter_action(first, rest, cx, diags) {
        return counter.map(|c| (HttpReqAction::Counter(c), false));
    }
    let action = match first.text.as_str() {
        "allow" => no_more(rest, first, diags).map(|()| HttpReqAction::Allow)?,
        "reject" => no_more(rest, first, diags).map(|()| HttpReqAction::Reject)?,
        "deny" => HttpReqAction::Deny {
            status: status_arg(rest, "deny_status", 403, ERROR_CODES, diags)?,
        },
        "tarpit" => HttpReqAction::Tarpit {
            status: status_arg(rest, "deny_status", 500, ERROR_CODES, diags)?,
        },
        "redirect" => {
            HttpReqAction::Redirect(super::redirect::parse_redirect(first, rest, cx, diags)?)
        }
        "set-path" => match rest {
            [fmt] => HttpReqAction::SetPath(log_format(fmt, cx, diags)?),
            _ => return fail(diags, first, "'set-path' expects one format string".into()),
        },
        "auth" => match rest {
            [] => HttpReqAction::Auth { realm: None },
            [k, r] if k.text == "realm" => HttpReqAction::Auth {
                realm: Some(Arc::from(r.text.as_str())),
            },
            _ => {
                return fail(
                    diags,
                    first,
                    "'auth' expects nothing or 'realm <realm>'".into(),
                );
            }
        },
        "use-service" => match rest {
            [s] if s.text == "prometheus-exporter" => {
                HttpReqAction::UseService(Service::PrometheusExporter)
            }
            [s] => {
                return fail(
                    diags,
                    s,
                    format!(
                        "service '{}' is not supported by lbd (only 'prometheus-exporter')",
                        s.text
                    ),
                );
            }
            _ => return fail(diags, first, "'use-service' expects a service name".into()),
        },
        "return" => super::redirect::parse_return(first, rest, cx, diags)?,
        t if t.starts_with("set-var(") => {
            let name = var_name(first, diags)?;
            let [value] = rest else {
                return fail(diags, first, format!("'{t}' expects one expression"));
            };
            HttpReqAction::SetVar {
                name,
                expr: value_expr(value, cx, diags)?.0,
            }
        }
        _ => {
            unknown_action(first, cx, HTTP_REQ_ACTIONS, HTTP_UNSUPPORTED, diags);
            return None;
        }
    };
    let is_final = !matches!(
        action,
        HttpReqAction::SetPath(_) | HttpReqAction::SetVar { .. }
    );
    Some((action, is_final))
}

pub fn parse_http_res(
    words: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(HttpResAction, bool)> {
    let Some((first, rest)) = words.split_first() else {
        diags.push(Diagnostic::error(
            cx.keyword.span,
            format!("'{}' expects an action", cx.context),
        ));
        return None;
    };
    if let Some(edit) = header_edit(first, rest, cx, diags) {
        return edit.map(|e| (HttpResAction::Header(e), false));
    }
    if let Some(counter) = counter_action(first, rest, cx, diags) {
        return counter.map(|c| (HttpResAction::Counter(c), false));
    }
    match first.text.as_str() {
        "allow" => no_more(rest, first, diags).map(|()| (HttpResAction::Allow, true)),
        "deny" => Some((
            HttpResAction::Deny {
                status: status_arg(rest, "deny_status", 502, ERROR_CODES, diags)?,
            },
            true,
        )),
        t if t.starts_with("set-var(") => {
            let name = var_name(first, diags)?;
            let [value] = rest else {
                diags.push(Diagnostic::error(
                    first.span,
                    format!("'{t}' expects one expression"),
                ));
                return None;
            };
            Some((
                HttpResAction::SetVar {
                    name,
                    expr: value_expr(value, cx, diags)?.0,
                },
                false,
            ))
        }
        _ => {
            unknown_action(first, cx, HTTP_RES_ACTIONS, HTTP_UNSUPPORTED, diags);
            None
        }
    }
}

pub(super) fn redirect_kind(word: &str) -> Option<RedirectKind> {
    match word {
        "location" => Some(RedirectKind::Location),
        "prefix" => Some(RedirectKind::Prefix),
        "scheme" => Some(RedirectKind::Scheme),
        _ => None,
    }
}

pub(super) fn fmt(word: &Word, cx: &ActionCx, diags: &mut Vec<Diagnostic>) -> Option<LogFormat> {
    log_format(word, cx, diags)
}
