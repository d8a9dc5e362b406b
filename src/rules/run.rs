//! Rule runners: evaluate each rule's condition in order and apply its
//! action until one decides.

use super::action::{
    CounterAction, HeaderEdit, HttpReqAction, HttpResAction, HttpVerdict, Redirect, RedirectKind,
    ResVerdict, Rule, TcpAction, TcpVerdict, Track,
};
use super::ctx::Ctx;
use super::eval::sample;
use super::expr::cond_holds;
use super::message::HeaderBlock;
use super::track::{SessionTracker, sample_key};
use crate::stick::DataType;

/// Runs `tcp-request connection` or `tcp-request content` rules.
pub fn run_tcp(rules: &[Rule<TcpAction>], ctx: &mut Ctx<'_>) -> TcpVerdict {
    for rule in rules {
        if !cond_holds(rule.cond.as_ref(), ctx) {
            continue;
        }
        match &rule.action {
            TcpAction::Accept => return TcpVerdict::Accept,
            TcpAction::Reject => return TcpVerdict::Reject,
            TcpAction::Counter(c) => counter(c, ctx),
        }
    }
    TcpVerdict::Continue
}

/// Runs `http-request` rules, applying header and path edits in place.
pub fn run_http_request(rules: &[Rule<HttpReqAction>], ctx: &mut Ctx<'_>) -> HttpVerdict {
    for rule in rules {
        if !cond_holds(rule.cond.as_ref(), ctx) {
            continue;
        }
        match &rule.action {
            HttpReqAction::Allow => return HttpVerdict::Allow,
            HttpReqAction::Reject => return HttpVerdict::Reject,
            HttpReqAction::Deny { status } => return HttpVerdict::Deny(*status),
            HttpReqAction::Tarpit { status } => return HttpVerdict::Tarpit(*status),
            HttpReqAction::Redirect(r) => {
                return HttpVerdict::Redirect {
                    code: r.code,
                    location: redirect_location(r, ctx),
                };
            }
            HttpReqAction::Return {
                status,
                content_type,
                body,
            } => {
                return HttpVerdict::Return {
                    status: *status,
                    content_type: content_type.clone(),
                    body: body.clone(),
                };
            }
            HttpReqAction::Auth { realm } => {
                return HttpVerdict::Auth {
                    realm: realm.clone(),
                };
            }
            HttpReqAction::UseService(s) => return HttpVerdict::UseService(*s),
            HttpReqAction::Header(edit) => edit_headers(edit, ctx, false),
            HttpReqAction::SetPath(fmt) => {
                let mut buf = std::mem::take(&mut ctx.state.scratch);
                buf.clear();
                fmt.expand(ctx, &mut buf);
                if let Some(req) = ctx.req.get_mut() {
                    req.set_path(&buf);
                }
                ctx.state.scratch = buf;
            }
            HttpReqAction::SetVar { name, expr } => set_var(name, expr, ctx),
            HttpReqAction::Counter(c) => counter(c, ctx),
        }
    }
    HttpVerdict::Continue
}

/// Runs `http-response` rules, applying header edits to the response.
pub fn run_http_response(rules: &[Rule<HttpResAction>], ctx: &mut Ctx<'_>) -> ResVerdict {
    for rule in rules {
        if !cond_holds(rule.cond.as_ref(), ctx) {
            continue;
        }
        match &rule.action {
            HttpResAction::Allow => return ResVerdict::Allow,
            HttpResAction::Deny { status } => return ResVerdict::Deny(*status),
            HttpResAction::Header(edit) => edit_headers(edit, ctx, true),
            HttpResAction::SetVar { name, expr } => set_var(name, expr, ctx),
            HttpResAction::Counter(c) => counter(c, ctx),
        }
    }
    ResVerdict::Continue
}

fn set_var(name: &str, expr: &super::expr::SampleExpr, ctx: &mut Ctx<'_>) {
    if let Some(value) = sample(expr, ctx).map(|s| s.into_owned()) {
        ctx.state.vars.set(name, value);
    }
}

fn counter(action: &CounterAction, ctx: &mut Ctx<'_>) {
    match action {
        CounterAction::Track(t) => track(t, ctx),
        CounterAction::IncGpc { slot, idx } => {
            if let Some(Some(t)) = ctx.state.trackers.get(usize::from(*slot)) {
                // The new value is only for fetches; the action ignores it.
                let _new_value: Option<u64> = if *idx == 0 {
                    t.entry().inc_gpc0(ctx.now_ms)
                } else {
                    t.entry().inc_gpc1(ctx.now_ms)
                };
            }
        }
        CounterAction::SetGpt0 { slot, value } => {
            let v = sample(value, ctx).and_then(|s| s.as_int());
            if let (Some(v), Some(Some(t))) = (v, ctx.state.trackers.get(usize::from(*slot))) {
                let v = u64::try_from(v.clamp(0, i64::from(u32::MAX))).unwrap_or(0);
                let _stored: bool = t.entry().set(DataType::Gpt0, v, ctx.now_ms);
            }
        }
    }
}

/// `track-scN`: a slot already tracking keeps its entry (one tracker per
/// slot per session); a key that does not fit the table tracks nothing.
fn track(t: &Track, ctx: &mut Ctx<'_>) {
    let slot = usize::from(t.slot);
    if ctx.state.trackers.get(slot).is_none_or(Option::is_some) {
        return;
    }
    let tracker = {
        let ctx_ref: &Ctx<'_> = ctx;
        let Some(s) = sample(&t.key, ctx_ref) else {
            return;
        };
        let Some(key) = sample_key(&s, t.key_type) else {
            return;
        };
        let Some(table) = ctx_ref.tables.get(t.table) else {
            return;
        };
        table.track(&key, ctx_ref.now_ms)
    };
    if let Some(tracker) = tracker {
        ctx.state.trackers[slot] =
            Some(SessionTracker::start(t.table, tracker, t.count, ctx.now_ms));
    }
}

fn edit_headers(edit: &HeaderEdit, ctx: &mut Ctx<'_>, response: bool) {
    let mut buf = std::mem::take(&mut ctx.state.scratch);
    buf.clear();
    match edit {
        HeaderEdit::Set { value, .. } | HeaderEdit::Add { value, .. } => {
            value.expand(ctx, &mut buf)
        }
        HeaderEdit::Replace { replace, .. } => replace.expand(ctx, &mut buf),
        HeaderEdit::Del { .. } => {}
    }
    let headers: Option<&mut HeaderBlock> = if response {
        ctx.res.get_mut().map(|r| &mut r.headers)
    } else {
        ctx.req.get_mut().map(|r| &mut r.headers)
    };
    if let Some(h) = headers {
        match edit {
            HeaderEdit::Set { name, .. } => h.set(name, &buf),
            HeaderEdit::Add { name, .. } => h.push(name, &buf),
            HeaderEdit::Del { name } => {
                h.remove(name);
            }
            HeaderEdit::Replace { name, regex, .. } => replace_values(h, name, regex, &buf),
        }
    }
    ctx.state.scratch = buf;
}

/// Replaces each value of `name` that the regex matches by `template`, with
/// `\0`..`\9` standing for the captures.
fn replace_values(h: &mut HeaderBlock, name: &[u8], regex: &regex::bytes::Regex, template: &[u8]) {
    for i in 0..h.len() {
        let Some((n, v)) = h.field(i) else { continue };
        if !n.eq_ignore_ascii_case(name) {
            continue;
        }
        let Some(caps) = regex.captures(v) else {
            continue;
        };
        let mut out = Vec::with_capacity(template.len() + v.len());
        let mut bytes = template.iter().copied().peekable();
        while let Some(b) = bytes.next() {
            match (b, bytes.peek()) {
                (b'\\', Some(d)) if d.is_ascii_digit() => {
                    let idx = usize::from(*d - b'0');
                    bytes.next();
                    if let Some(m) = caps.get(idx) {
                        out.extend_from_slice(m.as_bytes());
                    }
                }
                _ => out.push(b),
            }
        }
        h.set_value_at(i, &out);
    }
}

/// The `Location` of a redirect: `location` as is; `prefix` followed by the
/// path (and query unless `drop-query`); `scheme` with host and URI.
fn redirect_location(r: &Redirect, ctx: &Ctx<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    r.target.expand(ctx, &mut out);
    let Some(req) = ctx.request() else {
        return out;
    };
    match r.kind {
        RedirectKind::Location => {}
        RedirectKind::Prefix => {
            if out.ends_with(b"/") {
                out.pop();
            }
            out.extend_from_slice(req.path());
            if r.append_slash && !out.ends_with(b"/") {
                out.push(b'/');
            }
            if let (false, Some(q)) = (r.drop_query, req.query()) {
                out.push(b'?');
                out.extend_from_slice(q);
            }
        }
        RedirectKind::Scheme => {
            out.extend_from_slice(b"://");
            out.extend_from_slice(req.headers.first(b"host").unwrap_or_default());
            out.extend_from_slice(req.path());
            if let (false, Some(q)) = (r.drop_query, req.query()) {
                out.push(b'?');
                out.extend_from_slice(q);
            }
        }
    }
    out
}
