//! `stick-table` lines → `TableSpec`.

use super::args::{self, required};
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;
use crate::config::units::parse_time_ms;
use crate::stick::{DataSpec, DataType, KeyType, TableSpec};

const KEYWORD: &str = "stick-table";

/// Default length of string and binary keys.
const DEFAULT_KEY_LEN: u32 = 32;

/// Compiles `stick-table type <t> [len N] size <n> [expire <t>] [nopurge]
/// [peers <p>] [store <list>]*` of the proxy named `name`.
pub fn compile(line: &LineDecl, name: &str) -> Result<TableSpec, Diagnostic> {
    let mut key_type = None;
    let mut size = None;
    let mut expire_ms = 0;
    let mut nopurge = false;
    let mut peers = None;
    let mut store: Vec<DataSpec> = Vec::new();
    let mut i = 1;
    while let Some(word) = line.words.get(i) {
        match word.text.as_str() {
            "type" => {
                let (t, used) = key_type_at(line, i + 1)?;
                key_type = Some(t);
                i += 1 + used;
            }
            "size" => {
                let n = args::size(
                    required(line, i + 1, "stick-table size", "a size")?,
                    KEYWORD,
                )?;
                size = Some(u32::try_from(n).map_err(|_| {
                    Diagnostic::error(line.words[i + 1].span, "'stick-table size' is too large")
                })?);
                i += 2;
            }
            "expire" => {
                let ms = args::time(
                    required(line, i + 1, "stick-table expire", "a time")?,
                    KEYWORD,
                )?;
                expire_ms = u32::try_from(ms).map_err(|_| {
                    Diagnostic::error(
                        line.words[i + 1].span,
                        "'stick-table expire' is too large (at most 24d)",
                    )
                })?;
                i += 2;
            }
            "nopurge" => {
                nopurge = true;
                i += 1;
            }
            "peers" => {
                peers = Some(
                    required(line, i + 1, "stick-table peers", "a peers section name")?
                        .text
                        .clone(),
                );
                i += 2;
            }
            "store" => {
                let list = required(line, i + 1, "stick-table store", "a list of data types")?;
                add_store(&mut store, list)?;
                i += 2;
            }
            "srvkey" | "write-to" | "recv-only" => {
                return Err(Diagnostic::error(
                    word.span,
                    format!("'stick-table {}' is not supported by lbd", word.text),
                ));
            }
            other => {
                return Err(Diagnostic::error(
                    word.span,
                    format!(
                        "'stick-table' does not take '{other}' (expects type, size, expire, nopurge, peers or store)"
                    ),
                ));
            }
        }
    }
    let key_type = key_type
        .ok_or_else(|| Diagnostic::error(line.keyword().span, "'stick-table' needs a 'type'"))?;
    let size =
        size.ok_or_else(|| Diagnostic::error(line.keyword().span, "'stick-table' needs a 'size'"))?;
    store.sort_by_key(|d| d.data_type);
    Ok(TableSpec {
        name: name.to_string(),
        key_type,
        size,
        expire_ms,
        nopurge,
        peers,
        store,
    })
}

/// The key type at word `at` and how many words it used (`string len 64` = 3).
fn key_type_at(line: &LineDecl, at: usize) -> Result<(KeyType, usize), Diagnostic> {
    let word = required(
        line,
        at,
        "stick-table type",
        "'ip', 'ipv6', 'integer', 'string' or 'binary'",
    )?;
    let len_arg = || -> Result<Option<u32>, Diagnostic> {
        match line.words.get(at + 1) {
            Some(w) if w.text == "len" => {
                let n = args::uint(required(line, at + 2, "len", "a length")?, "len", 65_535)?;
                if n == 0 {
                    return Err(Diagnostic::error(
                        line.words[at + 2].span,
                        "'len' must be at least 1",
                    ));
                }
                Ok(Some(n as u32))
            }
            _ => Ok(None),
        }
    };
    let with_len = |make: fn(u32) -> KeyType| -> Result<(KeyType, usize), Diagnostic> {
        Ok(match len_arg()? {
            Some(len) => (make(len), 3),
            None => (make(DEFAULT_KEY_LEN), 1),
        })
    };
    match word.text.as_str() {
        "ip" => Ok((KeyType::Ip, 1)),
        "ipv6" => Ok((KeyType::Ipv6, 1)),
        "integer" => Ok((KeyType::Integer, 1)),
        "string" => with_len(|len| KeyType::String { len }),
        "binary" => with_len(|len| KeyType::Binary { len }),
        other => Err(Diagnostic::error(
            word.span,
            format!(
                "'stick-table type' expects 'ip', 'ipv6', 'integer', 'string' or 'binary', got '{other}'"
            ),
        )),
    }
}

/// Adds the comma-separated data types of a `store` argument.
fn add_store(store: &mut Vec<DataSpec>, list: &Word) -> Result<(), Diagnostic> {
    for item in split_list(&list.text) {
        let spec = data_spec(item).map_err(|msg| Diagnostic::error(list.span, msg))?;
        if store.iter().any(|d| d.data_type == spec.data_type) {
            return Err(Diagnostic::error(
                list.span,
                format!(
                    "'stick-table store': data type '{}' is stored twice",
                    spec.data_type.as_keyword()
                ),
            ));
        }
        store.push(spec);
    }
    Ok(())
}

/// Splits on commas outside parentheses.
fn split_list(text: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0u32;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter()
}

/// `conn_rate(100s)` → ConnRate with period 100000.
fn data_spec(item: &str) -> Result<DataSpec, String> {
    let (name, period) = match item.split_once('(') {
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("missing ')' after '{item}'"))?;
            (name, Some(inner))
        }
        None => (item, None),
    };
    let data_type = DataType::from_keyword(name).ok_or_else(|| match name {
        "gpt" | "gpc" | "gpc_rate" | "server_key" | "http_fail_cnt" | "http_fail_rate"
        | "server_name" => {
            format!("stick table data type '{name}' is not supported by lbd")
        }
        _ => format!("unknown stick table data type '{name}'"),
    })?;
    match (data_type.is_rate(), period) {
        (true, Some(p)) => {
            let ms =
                parse_time_ms(p).map_err(|e| format!("invalid period '{p}' for '{name}' ({e})"))?;
            let period_ms = u32::try_from(ms).ok().filter(|&ms| ms > 0).ok_or_else(|| {
                format!("period of '{name}' must be between 1ms and 24d, got '{p}'")
            })?;
            Ok(DataSpec {
                data_type,
                period_ms,
            })
        }
        (true, None) => Err(format!(
            "data type '{name}' needs a period, as in '{name}(10s)'"
        )),
        (false, Some(_)) => Err(format!("data type '{name}' takes no period")),
        (false, None) => Ok(DataSpec {
            data_type,
            period_ms: 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_specs_need_periods_exactly_on_rates() {
        let spec = data_spec("conn_rate(100s)").unwrap();
        assert_eq!(
            (spec.data_type, spec.period_ms),
            (DataType::ConnRate, 100_000)
        );
        assert!(data_spec("conn_rate").is_err());
        assert!(data_spec("gpc0(1s)").is_err());
        assert!(data_spec("nosuch").unwrap_err().starts_with("unknown"));
        assert_eq!(
            split_list("conn_rate(100s),bytes_out_rate(60s),gpc0").collect::<Vec<_>>(),
            vec!["conn_rate(100s)", "bytes_out_rate(60s)", "gpc0"]
        );
    }
}
