//! Sample expressions in rules: `fetch(args),conv(args),...`, resolved
//! against the fetch and converter tables, and log-format strings built
//! from them.

use super::rules::{Names, ProxyScope};
use crate::compile::program::Password;
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::config::source::Span;
use crate::rules::auth::UserTable;
use crate::rules::expr::SampleExpr;
use crate::rules::fetch::{self, ArgKind, ArgValue, Fetch, StickOp, Usage};
use crate::rules::pattern::MatchMethod;
use crate::rules::sample::SampleType;
use crate::rules::{conv, track::TRACKER_SLOTS};
use crate::stick::KeyType;

/// Where an expression is written: an ACL criterion may use the derived
/// forms (`hdr_beg`), other places may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleContext {
    Acl,
    Value,
}

/// A resolved expression and what the checks need to know about it.
#[derive(Debug)]
pub struct ParsedSample {
    pub expr: SampleExpr,
    /// The type after converters.
    pub out: SampleType,
    /// The matcher implied by a derived name (`path_beg` → `beg`).
    pub method: Option<MatchMethod>,
    pub usage: Usage,
    pub fetch_name: String,
}

const DERIVED: &[(&str, MatchMethod)] = &[
    ("beg", MatchMethod::Beg),
    ("end", MatchMethod::End),
    ("sub", MatchMethod::Sub),
    ("reg", MatchMethod::Reg),
    ("dir", MatchMethod::Dir),
    ("dom", MatchMethod::Dom),
    ("len", MatchMethod::Len),
    ("ip", MatchMethod::Ip),
    ("val", MatchMethod::Int),
];

/// HAProxy derives `_ip` only from `hdr`, and `_val` from `hdr`, `cook`
/// and `urlp`/`url_param`; `ssl_fc_sni` has only `_end` and `_reg`; the
/// string forms come from every other derivable fetch.
fn derived_exists(base: &str, suffix: &str) -> bool {
    if base == "ssl_fc_sni" {
        return matches!(suffix, "end" | "reg");
    }
    match suffix {
        "ip" => base == "hdr",
        "val" => matches!(base, "hdr" | "cook" | "urlp" | "url_param"),
        _ => true,
    }
}

/// The closest candidate, when close enough to be a typo.
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    super::suggest::best_match(name, candidates)
}

/// Splits `a(b,c),d` at top-level commas; `None` on unbalanced parentheses.
fn split_top(text: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    parts.push(&text[start..]);
    (depth == 0).then_some(parts)
}

/// `name(a,b)` → (`name`, [`a`, `b`]); `name` → (`name`, []).
fn split_call(text: &str) -> Option<(&str, Vec<&str>)> {
    match text.find('(') {
        None => Some((text, Vec::new())),
        Some(open) => {
            let inner = text[open + 1..].strip_suffix(')')?;
            let args = if inner.is_empty() {
                Vec::new()
            } else {
                inner.split(',').collect()
            };
            Some((&text[..open], args))
        }
    }
}

pub fn parse_sample_expr(
    word: &Word,
    sctx: SampleContext,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<ParsedSample> {
    parse_sample_text(&word.text, word.span, sctx, scope, names, diags)
}

/// Parses an expression given as text (a whole word, or the inside of
/// `%[...]`); errors point at `span`.
pub fn parse_sample_text(
    text: &str,
    span: Span,
    sctx: SampleContext,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<ParsedSample> {
    let Some(parts) = split_top(text) else {
        diags.push(Diagnostic::error(
            span,
            format!("unbalanced parentheses in '{text}'"),
        ));
        return None;
    };
    let Some((name, args)) = split_call(parts[0]) else {
        diags.push(Diagnostic::error(
            span,
            format!("'{}' expects ')' at the end of its arguments", parts[0]),
        ));
        return None;
    };
    let mut parsed = resolve_fetch(name, &args, span, sctx, scope, names, diags)?;
    let mut convs = Vec::new();
    for part in &parts[1..] {
        let Some((cname, cargs)) = split_call(part) else {
            diags.push(Diagnostic::error(
                span,
                format!("converter '{part}' expects ')' at the end of its arguments"),
            ));
            return None;
        };
        let Some((c, _input, output)) = conv::find(cname) else {
            let msg = if conv::UNSUPPORTED_CONVERTERS.contains(&cname) {
                format!("converter '{cname}' is not supported by lbd")
            } else {
                format!("unknown converter '{cname}' after '{name}'")
            };
            let mut d = Diagnostic::error(span, msg);
            if let Some(best) = suggest(cname, conv::CONVERTERS.iter().map(|(n, ..)| *n)) {
                d = d.with_help(format!("did you mean '{best}'?"));
            }
            diags.push(d);
            return None;
        };
        if !cargs.is_empty() {
            diags.push(Diagnostic::error(
                span,
                format!("converter '{cname}' takes no argument"),
            ));
            return None;
        }
        convs.push(c);
        parsed.out = output;
    }
    parsed.expr.convs = convs.into_boxed_slice();
    Some(parsed)
}

fn resolve_fetch(
    name: &str,
    args: &[&str],
    span: Span,
    sctx: SampleContext,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<ParsedSample> {
    if let Some(def) = fetch::find(name) {
        let values = resolve_args(
            name,
            def.args,
            def.required,
            args,
            span,
            scope,
            names,
            diags,
        )?;
        if let Some(Err(msg)) = def.check.map(|check| check(&values)) {
            diags.push(Diagnostic::error(span, format!("'{name}': {msg}")));
            return None;
        }
        return Some(ParsedSample {
            expr: SampleExpr::new((def.build)(&values)),
            out: def.out,
            method: None,
            usage: def.usage,
            fetch_name: name.to_string(),
        });
    }
    if let Some(p) = resolve_stick(name, args, span, scope, names, diags) {
        return p;
    }
    if sctx == SampleContext::Acl
        && let Some((base, suffix)) = name.rsplit_once('_')
        && let Some((_, method)) = DERIVED.iter().find(|(s, _)| *s == suffix)
        && let Some(def) =
            fetch::find(base).filter(|d| d.derivable && derived_exists(d.name, suffix))
    {
        let values = resolve_args(
            name,
            def.args,
            def.required,
            args,
            span,
            scope,
            names,
            diags,
        )?;
        if let Some(Err(msg)) = def.check.map(|check| check(&values)) {
            diags.push(Diagnostic::error(span, format!("'{name}': {msg}")));
            return None;
        }
        return Some(ParsedSample {
            expr: SampleExpr::new((def.build)(&values)),
            out: def.out,
            method: Some(*method),
            usage: def.usage,
            fetch_name: name.to_string(),
        });
    }
    if fetch::UNSUPPORTED_FETCHES.contains(&name) {
        diags.push(Diagnostic::error(
            span,
            format!("fetch '{name}' is not supported by lbd"),
        ));
        return None;
    }
    let mut d = Diagnostic::error(span, format!("unknown fetch '{name}'"));
    let mut candidates: Vec<String> = fetch::all_names().collect();
    for def in fetch::FETCHES.iter().filter(|d| d.derivable) {
        candidates.extend(
            DERIVED
                .iter()
                .filter(|(s, _)| derived_exists(def.name, s))
                .map(|(s, _)| format!("{}_{s}", def.name)),
        );
    }
    if let Some(best) = suggest(name, candidates.iter().map(String::as_str)) {
        d = d.with_help(format!("did you mean '{best}'?"));
    }
    diags.push(d);
    None
}

/// `sc0_*`, `sc_*(n)`, `src_*`: `None` when `name` is none of them.
fn resolve_stick(
    name: &str,
    args: &[&str],
    span: Span,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<ParsedSample>> {
    let (prefix, suffix) = name.split_once('_')?;
    let op = fetch::stick_op(suffix)?;
    let done = |fetch: Fetch| ParsedSample {
        expr: SampleExpr::new(fetch),
        out: op.out(),
        method: None,
        usage: Usage::ANY,
        fetch_name: name.to_string(),
    };
    let err = |diags: &mut Vec<Diagnostic>, msg: String| {
        diags.push(Diagnostic::error(span, msg));
        Some(None)
    };
    let (slot, table_args) = match prefix {
        "sc0" | "sc1" | "sc2" => (prefix.as_bytes()[2] - b'0', args),
        "sc" => match args.first().map(|a| a.parse::<u8>()) {
            Some(Ok(s)) if usize::from(s) < TRACKER_SLOTS => (s, &args[1..]),
            _ => {
                let got = args.first().unwrap_or(&"");
                let max = TRACKER_SLOTS - 1;
                return err(
                    diags,
                    format!(
                        "'{name}' expects a tracker number between 0 and {max} as argument 1, got '{got}'"
                    ),
                );
            }
        },
        "src" if op != StickOp::Tracked => {
            let values = resolve_args(name, &[ArgKind::Table], 0, args, span, scope, names, diags);
            let table = match values.as_deref() {
                None => return Some(None),
                Some([ArgValue::Table(t)]) => *t,
                _ => match scope.own_table {
                    Some(t) => t,
                    None => {
                        return err(
                            diags,
                            format!(
                                "'{name}' needs a stick table: {} '{}' has none, name one as argument",
                                scope.kind.as_keyword(),
                                scope.name
                            ),
                        );
                    }
                },
            };
            let spec = names.table_spec(table);
            if !matches!(spec.key_type, KeyType::Ip | KeyType::Ipv6) {
                return err(
                    diags,
                    format!(
                        "'{name}' needs a table of type ip or ipv6, table '{}' is of type {}",
                        spec.name,
                        spec.key_type.as_keyword()
                    ),
                );
            }
            warn_unstored(name, op, spec, span, diags);
            return Some(Some(done(Fetch::SrcEntry { table, op })));
        }
        _ => return None,
    };
    if op == StickOp::Tracked && !table_args.is_empty() {
        return err(diags, format!("'{name}' takes no table argument"));
    }
    let values = resolve_args(
        name,
        &[ArgKind::Table],
        0,
        table_args,
        span,
        scope,
        names,
        diags,
    );
    let table = match values.as_deref() {
        None => return Some(None),
        Some([ArgValue::Table(t)]) => {
            warn_unstored(name, op, names.table_spec(*t), span, diags);
            Some(*t)
        }
        _ => None,
    };
    Some(Some(done(Fetch::Tracked { slot, op, table })))
}

/// HAProxy accepts a fetch of a data type the table does not store (it then
/// never returns a value); lbd says so.
pub fn warn_unstored(
    name: &str,
    op: StickOp,
    spec: &crate::stick::TableSpec,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) {
    let needs = op.needs();
    if !needs.is_empty() && !needs.iter().any(|d| spec.stored(*d).is_some()) {
        diags.push(Diagnostic::warning(
            span,
            format!(
                "table '{}' does not store '{}', so '{name}' never returns a value",
                spec.name,
                needs[0].as_keyword()
            ),
        ));
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_args(
    name: &str,
    kinds: &[ArgKind],
    required: usize,
    args: &[&str],
    span: Span,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<ArgValue>> {
    if args.len() > kinds.len() {
        let msg = match kinds.len() {
            0 => format!("'{name}' takes no argument"),
            n => format!(
                "'{name}' takes at most {n} argument{}",
                if n == 1 { "" } else { "s" }
            ),
        };
        diags.push(Diagnostic::error(span, msg));
        return None;
    }
    if args.len() < required {
        diags.push(Diagnostic::error(
            span,
            format!(
                "'{name}' expects {} as argument {}",
                kinds[args.len()].describe(),
                args.len() + 1
            ),
        ));
        return None;
    }
    let mut values = Vec::with_capacity(args.len());
    for (i, (arg, kind)) in args.iter().zip(kinds).enumerate() {
        let value = match kind {
            ArgKind::Str => ArgValue::Str((*arg).to_string()),
            ArgKind::Int => match arg.trim().parse::<i64>() {
                Ok(v) => ArgValue::Int(v),
                Err(_) => {
                    diags.push(Diagnostic::error(
                        span,
                        format!(
                            "'{name}' expects an integer as argument {}, got '{arg}'",
                            i + 1
                        ),
                    ));
                    return None;
                }
            },
            ArgKind::Table => match names.table(arg) {
                Some(t) => ArgValue::Table(t),
                None => {
                    diags.push(Diagnostic::error(
                        span,
                        format!(
                            "unable to find table '{arg}' referenced by '{name}' in {} '{}'",
                            scope.kind.as_keyword(),
                            scope.name
                        ),
                    ));
                    return None;
                }
            },
            ArgKind::Userlist => ArgValue::Userlist(std::sync::Arc::new(userlist(
                name, arg, span, names, diags,
            )?)),
        };
        values.push(value);
    }
    Some(values)
}

fn userlist(
    fetch: &str,
    arg: &str,
    span: Span,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<UserTable> {
    let Some(id) = names.userlist(arg) else {
        diags.push(Diagnostic::error(
            span,
            format!("unable to find userlist '{arg}' referenced by '{fetch}'"),
        ));
        return None;
    };
    let list = names.userlist_def(id);
    let mut users = Vec::with_capacity(list.users.len());
    for user in &list.users {
        match &user.password {
            Password::Insecure(p) => users.push((user.name.clone(), p.clone())),
            Password::Crypt(_) => {
                diags.push(Diagnostic::error(
                    span,
                    format!("user '{}' of userlist '{arg}' has an encrypted password: crypt(3) hashes are not supported by lbd, use 'insecure-password'", user.name),
                ));
                return None;
            }
        }
    }
    Some(UserTable::new(arg, users))
}
