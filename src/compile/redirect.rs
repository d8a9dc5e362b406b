//! `http-request redirect` and `http-request return`, the two actions with
//! keyword options.

use std::sync::Arc;

use super::action::{ActionCx, fail, fmt, redirect_kind};
use crate::config::ast::Word;
use crate::config::diag::Diagnostic;
use crate::rules::action::{HttpReqAction, Redirect};

/// `redirect location|prefix|scheme <fmt> [code N] [drop-query] [append-slash]`.
pub fn parse_redirect(
    first: &Word,
    rest: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Redirect> {
    let (Some(kind_word), Some(target)) = (rest.first(), rest.get(1)) else {
        return fail(
            diags,
            first,
            "'redirect' expects 'location', 'prefix' or 'scheme' followed by a target".into(),
        );
    };
    let Some(kind) = redirect_kind(&kind_word.text) else {
        return fail(
            diags,
            kind_word,
            format!(
                "'redirect' expects 'location', 'prefix' or 'scheme', got '{}'",
                kind_word.text
            ),
        );
    };
    let target = fmt(target, cx, diags)?;
    let mut redirect = Redirect {
        kind,
        target,
        code: 302,
        drop_query: false,
        append_slash: false,
    };
    let mut i = 2;
    while let Some(w) = rest.get(i) {
        i += 1;
        match w.text.as_str() {
            "code" => {
                let Some(v) = rest.get(i) else {
                    return fail(diags, w, "'code' expects an HTTP status code".into());
                };
                i += 1;
                match v.text.parse::<u16>() {
                    Ok(c @ (301 | 302 | 303 | 307 | 308)) => redirect.code = c,
                    _ => {
                        return fail(
                            diags,
                            v,
                            format!(
                                "unsupported redirect code '{}', expected one of 301, 302, 303, 307 or 308",
                                v.text
                            ),
                        );
                    }
                }
            }
            "drop-query" => redirect.drop_query = true,
            "append-slash" => redirect.append_slash = true,
            "set-cookie" | "clear-cookie" | "ignore-empty" => {
                return fail(
                    diags,
                    w,
                    format!("redirect option '{}' is not supported by lbd", w.text),
                );
            }
            other => {
                return fail(
                    diags,
                    w,
                    format!(
                        "unexpected '{other}' in 'redirect', expected 'code', 'drop-query' or 'append-slash'"
                    ),
                );
            }
        }
    }
    Some(redirect)
}

/// `return [status N] [content-type T] [string S | file F]`.
pub fn parse_return(
    _first: &Word,
    rest: &[Word],
    cx: &ActionCx,
    diags: &mut Vec<Diagnostic>,
) -> Option<HttpReqAction> {
    let mut status = 200;
    let mut content_type = None;
    let mut body: Option<(Arc<[u8]>, &Word)> = None;
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        let Some(v) = rest.get(i + 1) else {
            return fail(diags, w, format!("'{}' expects a value after it", w.text));
        };
        i += 2;
        match w.text.as_str() {
            "status" => match v.text.parse::<u16>() {
                Ok(code @ 200..=599) if code != 204 && code != 304 => status = code,
                _ => {
                    return fail(
                        diags,
                        v,
                        format!(
                            "unexpected status code '{}' for 'return', expected 200 to 599 except 204 and 304",
                            v.text
                        ),
                    );
                }
            },
            "content-type" => content_type = Some(Arc::from(v.text.as_str())),
            "string" => body = Some((Arc::from(v.text.as_bytes()), w)),
            "file" => {
                let path = cx.scope.base_dir.join(&v.text);
                match std::fs::read(&path) {
                    Ok(bytes) => body = Some((Arc::from(bytes), w)),
                    Err(e) => {
                        return fail(
                            diags,
                            v,
                            format!("cannot read file '{}': {e}", path.display()),
                        );
                    }
                }
            }
            "lf-string" | "lf-file" | "errorfile" | "errorfiles" | "hdr" | "default-errorfiles" => {
                return fail(
                    diags,
                    w,
                    format!("'return' option '{}' is not supported by lbd", w.text),
                );
            }
            other => {
                return fail(
                    diags,
                    w,
                    format!(
                        "unexpected '{other}' in 'return', expected 'status', 'content-type', 'string' or 'file'"
                    ),
                );
            }
        }
    }
    if let Some((b, w)) = &body
        && !b.is_empty()
        && content_type.is_none()
    {
        return fail(
            diags,
            w,
            "'return' with a non-empty body expects a 'content-type'".into(),
        );
    }
    Some(HttpReqAction::Return {
        status,
        content_type,
        body: body.map_or_else(|| Arc::from(&b""[..]), |(b, _)| b),
    })
}
