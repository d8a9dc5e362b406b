//! Log-format strings (header values, redirect targets): literal text,
//! `%%`, `%[fetch,conv]` and the `%ci %cp %fi %fp` aliases.

use super::rules::{Names, ProxyScope};
use super::sample::{SampleContext, parse_sample_text};
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::fetch::Usage;
use crate::rules::logformat::{ALIASES, LogFormat, LogPart};

/// Compiles a log-format string: literal text, `%%`, `%[expr]`, `%ci`...
pub fn parse_log_format(
    word: &Word,
    usage: Usage,
    context: &str,
    scope: &ProxyScope,
    names: &dyn Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<LogFormat> {
    let text = word.text.as_str();
    let mut parts = Vec::new();
    let mut literal = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('%') {
        literal.extend_from_slice(&rest.as_bytes()[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            literal.push(b'%');
            rest = r;
            continue;
        }
        if !literal.is_empty() {
            parts.push(LogPart::Literal(std::mem::take(&mut literal).into()));
        }
        if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                diags.push(Diagnostic::error(
                    word.span,
                    format!("missing ']' after '%[' in '{text}'"),
                ));
                return None;
            };
            let parsed = parse_sample_text(
                &r[..end],
                word.span,
                SampleContext::Value,
                scope,
                names,
                diags,
            )?;
            if !parsed.usage.allows(usage) {
                diags.push(Diagnostic::error(
                    word.span,
                    format!(
                        "fetch '{}' is not available in '{context}'",
                        parsed.fetch_name
                    ),
                ));
                return None;
            }
            parts.push(LogPart::Sample(parsed.expr));
            rest = &r[end + 1..];
            continue;
        }
        let alias_len = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let alias = &rest[..alias_len];
        match ALIASES.iter().find(|(n, _)| *n == alias) {
            Some((_, part)) => parts.push(part.clone()),
            None if alias.is_empty() => {
                diags.push(Diagnostic::error(
                    word.span,
                    format!("'%' must be followed by '[', a variable name or '%' in '{text}'"),
                ));
                return None;
            }
            None => {
                diags.push(Diagnostic::error(word.span, format!("log-format variable '%{alias}' is not supported by lbd (supported: %[fetch], %ci, %cp, %fi, %fp, %%)")));
                return None;
            }
        }
        rest = &rest[alias_len..];
    }
    literal.extend_from_slice(rest.as_bytes());
    if !literal.is_empty() {
        parts.push(LogPart::Literal(literal.into()));
    }
    Some(LogFormat { parts })
}
