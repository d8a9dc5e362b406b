//! Counter actions shared by every rule set: `track-scN <key> [table T]`,
//! `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-set-gpt0(N) <value>`; and the
//! value expressions they (and `set-var`) take.

use super::action::{ActionCx, fail};
use super::sample::{SampleContext, parse_sample_expr};
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::action::{CounterAction, Track};
use crate::rules::expr::SampleExpr;
use crate::rules::fetch::Usage;
use crate::rules::sample::SampleType;
use crate::rules::track::TrackCount;
use crate::stick::KeyType;

pub(super) fn no_more(rest: &[Word], action: &Word, diags: &mut Vec<Diagnostic>) -> Option<()> {
    match rest.first() {
        None => Some(()),
        Some(w) => fail(
            diags,
            w,
            format!(
                "unexpected '{}' after '{}', expected 'if', 'unless' or the end of the line",
                w.text, action.text
            ),
        ),
    }
}

/// `track-scN`, `sc-inc-gpcN(n)`, `sc-set-gpt0(n)`: `None` when the word is
/// none of them, `Some(None)` when it is one but has errors.
pub(super) fn counter_action(
    first: &Word,
    rest: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<CounterAction>> {
    let text = first.text.as_str();
    if let Some(n) = text.strip_prefix("track-sc") {
        let Some(slot) = n.parse::<u8>().ok().filter(|s| *s < 3) else {
            if text == "track-sc" {
                return None;
            }
            return Some(fail(
                diags,
                first,
                format!("'{text}' expects a tracker number between 0 and 2"),
            ));
        };
        return Some(track(slot, first, rest, cx, diags));
    }
    let (name, arg) = match text.split_once('(') {
        Some((n, a)) => (n, a.strip_suffix(')')),
        None => (text, None),
    };
    let idx = match name {
        "sc-inc-gpc0" => 0,
        "sc-inc-gpc1" => 1,
        "sc-set-gpt0" => 2,
        _ => return None,
    };
    let Some(slot) = arg.and_then(|a| a.parse::<u8>().ok()).filter(|s| *s < 3) else {
        diags.push(Diagnostic::error(first.span, format!("'{name}' expects a tracker number between 0 and 2 in parentheses, as in '{name}(0)'")));
        return Some(None);
    };
    if idx < 2 {
        return Some(no_more(rest, first, diags).map(|()| CounterAction::IncGpc { slot, idx }));
    }
    let [value] = rest else {
        diags.push(Diagnostic::error(
            first.span,
            format!("'{name}' expects one integer or expression"),
        ));
        return Some(None);
    };
    let expr = match value.text.parse::<i64>() {
        Ok(v) => SampleExpr::new(crate::rules::fetch::Fetch::Int(v)),
        Err(_) => match value_expr(value, cx, diags) {
            Some((e, _)) => e,
            None => return Some(None),
        },
    };
    Some(Some(CounterAction::SetGpt0 { slot, value: expr }))
}

/// A sample expression used as a value (track key, set-var): it must be
/// available where the rule runs.
pub(super) fn value_expr(
    word: &Word,
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(SampleExpr, SampleType)> {
    let parsed = parse_sample_expr(word, SampleContext::Value, cx.scope, cx.names, diags)?;
    if !parsed.usage.allows(cx.usage) {
        diags.push(Diagnostic::error(
            word.span,
            format!(
                "fetch '{}' is not available in '{}'",
                parsed.fetch_name, cx.context
            ),
        ));
        return None;
    }
    Some((parsed.expr, parsed.out))
}

fn track(
    slot: u8,
    first: &Word,
    rest: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<CounterAction> {
    let Some((key_word, rest)) = rest.split_first() else {
        diags.push(Diagnostic::error(
            first.span,
            format!("'{}' expects a key expression such as 'src'", first.text),
        ));
        return None;
    };
    let (key, out) = value_expr(key_word, cx, diags)?;
    let table = match rest {
        [] => match cx.scope.own_table {
            Some(t) => t,
            None => {
                diags.push(Diagnostic::error(
                    first.span,
                    format!(
                        "'{}' needs a stick table: {} '{}' has none, add 'table <name>'",
                        first.text,
                        cx.scope.kind.as_keyword(),
                        cx.scope.name
                    ),
                ));
                return None;
            }
        },
        [kw, name] if kw.text == "table" => match cx.names.table(&name.text) {
            Some(t) => t,
            None => {
                diags.push(Diagnostic::error(
                    name.span,
                    format!(
                        "unable to find table '{}' referenced by '{}' in {} '{}'",
                        name.text,
                        first.text,
                        cx.scope.kind.as_keyword(),
                        cx.scope.name
                    ),
                ));
                return None;
            }
        },
        [w, ..] => {
            return fail(
                diags,
                w,
                format!(
                    "'{}' expects 'table <name>' after its key, got '{}'",
                    first.text, w.text
                ),
            );
        }
    };
    let key_type = cx.names.table_spec(table).key_type;
    let fits = match key_type {
        KeyType::Ip | KeyType::Ipv6 => matches!(out, SampleType::Ip | SampleType::Str),
        KeyType::Integer => matches!(out, SampleType::Int | SampleType::Bool | SampleType::Str),
        KeyType::String { .. } | KeyType::Binary { .. } => out == SampleType::Str,
    };
    if !fits {
        diags.push(Diagnostic::error(
            key_word.span,
            format!(
                "converting '{}' ({}) to a key of a table of type {} is not supported by lbd",
                key_word.text,
                out.as_keyword(),
                key_type.as_keyword()
            ),
        ));
        return None;
    }
    let count = if cx.usage == Usage::CONN {
        TrackCount::Connection
    } else if cx.usage == Usage::CONTENT {
        TrackCount::Content
    } else {
        TrackCount::HttpRequest
    };
    Some(CounterAction::Track(Track {
        slot,
        key,
        table,
        key_type,
        count,
    }))
}
