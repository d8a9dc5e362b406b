//! `show table`, `set table`, `clear table`: argument parsing with
//! HAProxy's texts, then the stick-table API (which copies entries out of
//! their shard before anything is written to the client).

use std::sync::Arc;

use super::super::command::{Outcome, Session};
use super::super::{Ctx, format, messages};
use crate::compile::program::Level;
use crate::stick::{
    ClearError, DataFilter, DataType, Filter, FilterOp, Key, KeyError, MAX_DATA_FILTERS, SetError,
    Table,
};

/// Which command parses a key: their texts for unsupported key types differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Show,
    Clear,
    Set,
}

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map_or("", String::as_str)
}

fn table<'c>(ctx: &'c Ctx, name: &str) -> Result<&'c Arc<Table>, Outcome> {
    ctx.tables
        .by_name(name)
        .ok_or_else(|| Outcome::text(messages::NO_SUCH_TABLE))
}

/// `show table`, `show table <t> [data.<type> <op> <v>]* | [key <k>]`.
pub fn show_table(ctx: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    let name = arg(args, 2);
    if name.is_empty() {
        return Outcome::Text(format::table::list(&ctx.tables, crate::clock::now_ms()));
    }
    let t = match table(ctx, name) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let filter = match parse_filter(t, args, Action::Show) {
        Ok(f) => f,
        Err(text) => return Outcome::Text(text),
    };
    if matches!(filter, Filter::Key(_)) && session.level < Level::Operator {
        return Outcome::text(messages::PERMISSION_DENIED);
    }
    let skip_if_empty = matches!(filter, Filter::Key(_));
    Outcome::Dump {
        table: Arc::clone(t),
        filter,
        skip_if_empty,
    }
}

/// `clear table <t> [data.<type> <op> <v>]* | [key <k>]`.
pub fn clear_table(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    let name = arg(args, 2);
    if name.is_empty() {
        return Outcome::text(messages::CLEAR_TABLE_ARGS);
    }
    let t = match table(ctx, name) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let filter = match parse_filter(t, args, Action::Clear) {
        Ok(f) => f,
        Err(text) => return Outcome::Text(text),
    };
    match t.clear(&filter, crate::clock::now_ms()) {
        Ok(_) => Outcome::done(),
        Err(ClearError::InUse) => Outcome::text(messages::ENTRY_IN_USE),
    }
}

/// `set table <t> key <k> [data.<type> <v>]*`. The whole command is checked
/// before anything is written. Unlike HAProxy 2.6, an `ip` key must be a
/// valid address (HAProxy silently writes `0.0.0.0` for a typo), and a
/// missing `key` is an error (HAProxy clears the table).
pub fn set_table(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    let t = match table(ctx, arg(args, 2)) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match arg(args, 3) {
        "key" => {}
        w if w.starts_with("data.") => return Outcome::text(messages::SET_TABLE_BY_CONTENT),
        _ => return Outcome::text(messages::SET_TABLE_ARGS),
    }
    let key = match parse_key(t, arg(args, 4), Action::Set) {
        Ok(k) => k,
        Err(text) => return Outcome::text(text),
    };
    let mut writes = Vec::new();
    let mut i = 5;
    while i < args.len() {
        let Some(name) = args[i].strip_prefix("data.") else {
            return Outcome::text(messages::SET_TABLE_DATA_EXPECTED);
        };
        let Some(data_type) = DataType::from_keyword(name) else {
            return Outcome::text(messages::UNKNOWN_DATA_TYPE);
        };
        if !t.stores(data_type) {
            return Outcome::text(messages::DATA_NOT_STORED);
        }
        let Some(value) = args.get(i + 1).and_then(|v| v.parse::<i64>().ok()) else {
            return Outcome::text(messages::REQUIRE_VALUE_TO_STORE);
        };
        // Negative values wrap as in HAProxy (`-1` stores 4294967295).
        writes.push((data_type, value as u64));
        i += 2;
    }
    let now = crate::clock::now_ms();
    if t.touch(&key, now).is_none() {
        return Outcome::text(messages::TABLE_FULL);
    }
    for (data_type, value) in writes {
        match t.set_data(&key, data_type, value, now) {
            Ok(()) => {}
            Err(SetError::NotStored) => return Outcome::text(messages::DATA_NOT_STORED),
            Err(SetError::Full) => return Outcome::text(messages::TABLE_FULL),
        }
    }
    Outcome::done()
}

/// The optional filter after `<table>` (`args[3..]`).
fn parse_filter(t: &Table, args: &[String], action: Action) -> Result<Filter, String> {
    let first = arg(args, 3);
    if first.is_empty() {
        return Ok(Filter::All);
    }
    if first == "key" {
        let text = arg(args, 4);
        if text.is_empty() {
            return Err(messages::KEY_EXPECTED.into());
        }
        return parse_key(t, text, action)
            .map(Filter::Key)
            .map_err(String::from);
    }
    if !first.starts_with("data.") {
        return Err(match action {
            Action::Clear => messages::CLEAR_TABLE_ARGS,
            _ => messages::SHOW_TABLE_ARGS,
        }
        .into());
    }
    let mut filters = Vec::new();
    let mut i = 0;
    while i < MAX_DATA_FILTERS {
        let at = 3 + 3 * i;
        if i > 0 && arg(args, at).is_empty() {
            break;
        }
        filters.push(parse_data_filter(t, args, at, i + 1)?);
        i += 1;
    }
    let at = 3 + 3 * i;
    if !arg(args, at).is_empty() {
        return Err(messages::filter_extra(at + 1, arg(args, at - 1)));
    }
    Ok(Filter::Data(filters))
}

/// One `data.<type> <op> <value>` at `args[at..]`, the `n`-th filter.
fn parse_data_filter(
    t: &Table,
    args: &[String],
    at: usize,
    n: usize,
) -> Result<DataFilter, String> {
    let err = |what| messages::filter_error(n, what);
    let name = arg(args, at).strip_prefix("data.").unwrap_or("");
    let data_type =
        DataType::from_keyword(name).ok_or_else(|| err(messages::FILTER_UNKNOWN_TYPE))?;
    if !t.stores(data_type) {
        return Err(err(messages::FILTER_NOT_STORED));
    }
    let op =
        FilterOp::from_keyword(arg(args, at + 1)).ok_or_else(|| err(messages::FILTER_BAD_OP))?;
    let value = arg(args, at + 2)
        .parse::<i64>()
        .map_err(|_| err(messages::FILTER_BAD_VALUE))?;
    Ok(DataFilter {
        data_type,
        op,
        value,
    })
}

/// A key as text. `show` and `clear` read `ip` keys leniently, as HAProxy
/// does (so `key notanip` finds nothing instead of failing); `set` is strict.
fn parse_key(t: &Table, text: &str, action: Action) -> Result<Key, &'static str> {
    let key_type = t.spec().key_type;
    let parsed = if action == Action::Set {
        Key::parse(key_type, text)
    } else {
        Key::parse_lenient(key_type, text)
    };
    parsed.map_err(|e| match (e, action) {
        (KeyError::Invalid, _) => messages::INVALID_KEY,
        (KeyError::UnsupportedType, Action::Show) => messages::SHOW_KEY_TYPE,
        (KeyError::UnsupportedType, Action::Clear) => messages::CLEAR_KEY_TYPE,
        (KeyError::UnsupportedType, Action::Set) => messages::SET_KEY_TYPE,
    })
}
