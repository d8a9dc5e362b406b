//! Running fetches against a context. Strings borrow from the request or
//! response head, so the common fetches do not allocate.

use std::borrow::Cow;

use super::ctx::Ctx;
use super::expr::SampleExpr;
use super::fetch::{Dir, Fetch, StickOp};
use super::message::HeaderBlock;
use super::sample::Sample;
use crate::stick::{EntryRef, Key, TableId};

/// Calls `each` with every value the expression yields (after converters)
/// until it returns true; returns whether it did. Most fetches yield at most
/// one value; `hdr(name)` without an occurrence yields every value, which is
/// how an ACL tests all of them.
pub fn each_sample<'c>(
    expr: &'c SampleExpr,
    ctx: &'c Ctx<'_>,
    each: &mut dyn FnMut(&Sample<'_>) -> bool,
) -> bool {
    let mut with_convs = |sample: Sample<'c>| {
        let mut sample = Some(sample);
        for conv in expr.convs.iter() {
            sample = sample.and_then(|s| conv.apply(s));
        }
        sample.is_some_and(|s| each(&s))
    };
    fetch_each(&expr.fetch, ctx, true, &mut with_convs)
}

/// The single value of an expression (the last header occurrence for `hdr`).
pub fn sample<'c>(expr: &'c SampleExpr, ctx: &'c Ctx<'_>) -> Option<Sample<'c>> {
    let mut out = None;
    fetch_each(&expr.fetch, ctx, false, &mut |s| {
        out = Some(s);
        false
    });
    let mut out = out?;
    for conv in expr.convs.iter() {
        out = conv.apply(out)?;
    }
    Some(out)
}

fn fetch_each<'c>(
    fetch: &'c Fetch,
    ctx: &'c Ctx<'_>,
    all: bool,
    each: &mut dyn FnMut(Sample<'c>) -> bool,
) -> bool {
    let req = ctx.request();
    let tls = ctx.state.tls.as_ref();
    let one = match fetch {
        Fetch::Src => Some(Sample::Ip(ctx.client.ip())),
        Fetch::SrcPort => Some(Sample::Int(i64::from(ctx.client.port()))),
        Fetch::Dst => Some(Sample::Ip(ctx.local.ip())),
        Fetch::DstPort => Some(Sample::Int(i64::from(ctx.local.port()))),
        Fetch::Tracked { slot, op, table } => {
            let tracker = ctx
                .state
                .trackers
                .get(usize::from(*slot))
                .and_then(Option::as_ref);
            match (tracker, op, table) {
                (None, StickOp::Tracked, _) => Some(Sample::Bool(false)),
                (None, _, _) => None,
                (Some(t), _, Some(other)) if *other != t.table() => {
                    other_table(ctx, t.entry().key(), *other, *op)
                }
                (Some(t), _, _) => stick_op(t.entry(), *op, ctx.now_ms),
            }
        }
        Fetch::SrcEntry { table, op } => src_entry(ctx, *table, *op),
        Fetch::TableCnt(t) => ctx
            .tables
            .get(*t)
            .map(|t| Sample::Int(to_i64(t.len() as u64))),
        Fetch::TableAvl(t) => ctx
            .tables
            .get(*t)
            .map(|t| Sample::Int(to_i64(t.avail() as u64))),
        Fetch::Hdr { dir, name, occ } => {
            let Some(headers) = headers(ctx, *dir) else {
                return false;
            };
            return header_values(headers, name, *occ, all, true, each);
        }
        Fetch::FullHdr { dir, name, occ } => {
            let Some(headers) = headers(ctx, *dir) else {
                return false;
            };
            return header_values(headers, name, *occ, all, false, each);
        }
        Fetch::HdrCnt { dir, name } => headers(ctx, *dir).map(|h| {
            // Every comma-separated value counts (the manual's `req.hdr_cnt`).
            let n: usize = h
                .iter()
                .filter(|(n, _)| name.is_empty() || n.eq_ignore_ascii_case(name))
                .map(|(_, v)| split_commas(v).count())
                .sum();
            Sample::Int(to_i64(n as u64))
        }),
        Fetch::Path => req.map(|r| Sample::borrowed(r.path())),
        Fetch::Url => req.map(|r| Sample::borrowed(r.uri())),
        Fetch::Query => req.and_then(|r| r.query()).map(Sample::borrowed),
        Fetch::Method => req.map(|r| Sample::borrowed(r.method())),
        Fetch::Version => req.map(|r| {
            let v = r.version.as_bytes();
            Sample::borrowed(&v[v.len() - 3..])
        }),
        Fetch::Base => req.and_then(|r| {
            let host = r.headers.first(b"host")?;
            let mut out = Vec::with_capacity(host.len() + r.path().len());
            out.extend_from_slice(host);
            out.extend_from_slice(r.path());
            Some(Sample::Str(Cow::Owned(out)))
        }),
        Fetch::UrlParam(name) => req
            .and_then(|r| r.query())
            .and_then(|q| url_param(q, name))
            .map(Sample::borrowed),
        Fetch::Cook(name) => {
            let Some(r) = req else { return false };
            let mut values = cookies(&r.headers).filter(|(n, _)| n == &&name[..]);
            if all {
                return values.any(|(_, v)| each(Sample::borrowed(v)));
            }
            values.next().map(|(_, v)| Sample::borrowed(v))
        }
        Fetch::CookCnt(name) => req.map(|r| {
            let n = cookies(&r.headers)
                .filter(|(n, _)| name.is_empty() || n == &&name[..])
                .count();
            Sample::Int(to_i64(n as u64))
        }),
        Fetch::Status => ctx.response().map(|r| Sample::Int(i64::from(r.status))),
        Fetch::HttpAuth(users) => req.map(|r| {
            let value = r.headers.first(b"authorization");
            Sample::Bool(value.is_some_and(|v| users.check_header(v)))
        }),
        Fetch::SslFc => Some(Sample::Bool(ctx.state.tls.is_some())),
        Fetch::SslFcSni => tls.and_then(|t| t.sni.as_deref()).map(str_sample),
        Fetch::SslFcProtocol => tls.and_then(|t| t.protocol).map(str_sample),
        Fetch::SslFcAlpn => tls.and_then(|t| t.alpn.as_deref()).map(Sample::borrowed),
        Fetch::SslFcCipher => tls.and_then(|t| t.cipher).map(str_sample),
        // No TLS layer: the fetch fails, so an ACL on it is false.
        Fetch::SslCUsed => tls.map(|t| Sample::Bool(t.client_cert_used)),
        Fetch::SslCVerify => tls.map(|t| Sample::Int(t.client_verify)),
        Fetch::SslCSDn {
            entry,
            occ,
            rfc2253,
        } => tls.and_then(|t| {
            if entry.is_empty() {
                t.subject_dn(*rfc2253)
                    .map(|dn| Sample::Str(Cow::Owned(dn.into_bytes())))
            } else {
                t.subject_entry(entry, *occ).map(str_sample)
            }
        }),
        Fetch::ReqSslSni => ctx.state.req_ssl_sni.as_deref().map(str_sample),
        Fetch::Bool(b) => Some(Sample::Bool(*b)),
        Fetch::Var(name) => ctx.state.vars.get(name).map(|v| match v {
            Sample::Str(s) => Sample::borrowed(s),
            other => other.clone(),
        }),
        Fetch::Str(s) => Some(Sample::borrowed(s)),
        Fetch::Int(i) => Some(Sample::Int(*i)),
    };
    one.is_some_and(each)
}

fn str_sample(s: &str) -> Sample<'_> {
    Sample::borrowed(s.as_bytes())
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn headers<'c>(ctx: &'c Ctx<'_>, dir: Dir) -> Option<&'c HeaderBlock> {
    let res = match dir {
        Dir::Req => false,
        Dir::Res => true,
        Dir::Auto => ctx.res.is_some(),
    };
    if res {
        ctx.response().map(|r| &r.headers)
    } else {
        ctx.request().map(|r| &r.headers)
    }
}

fn stick_op<'c>(entry: EntryRef<'_>, op: StickOp, now_ms: u64) -> Option<Sample<'c>> {
    let value = match op {
        StickOp::Tracked => return Some(Sample::Bool(true)),
        StickOp::Read(d) => entry.get(d, now_ms)?,
        StickOp::ReadKbytes(d) => entry.get(d, now_ms)? >> 10,
        StickOp::Inc(0) => entry.inc_gpc0(now_ms)?,
        StickOp::Inc(_) => entry.inc_gpc1(now_ms)?,
        StickOp::Clr(0) => entry.clr_gpc0(now_ms)?,
        StickOp::Clr(_) => entry.clr_gpc1(now_ms)?,
    };
    Some(Sample::Int(to_i64(value)))
}

/// `scN_*(table)` naming another table than the tracker's: the tracked key
/// looked up there (created by `inc`); a missing entry reads as 0.
fn other_table<'c>(
    ctx: &Ctx<'_>,
    key: Option<Key>,
    table: TableId,
    op: StickOp,
) -> Option<Sample<'c>> {
    let key = key?;
    let table = ctx.tables.get(table)?;
    let entry = match op {
        StickOp::Inc(_) => table.touch(&key, ctx.now_ms),
        _ => table.lookup(&key, ctx.now_ms),
    };
    match entry {
        Some(e) => stick_op(e, op, ctx.now_ms),
        None => Some(Sample::Int(0)),
    }
}

/// `src_*`: a missing entry reads as 0 (HAProxy), `src_inc_gpc*` creates it.
fn src_entry<'c>(ctx: &Ctx<'_>, table: TableId, op: StickOp) -> Option<Sample<'c>> {
    let table = ctx.tables.get(table)?;
    let key = Key::from_ip(table.spec().key_type, ctx.client.ip())?;
    let entry = match op {
        StickOp::Inc(_) => table.touch(&key, ctx.now_ms),
        _ => table.lookup(&key, ctx.now_ms),
    };
    match entry {
        Some(e) => stick_op(e, op, ctx.now_ms),
        None => Some(Sample::Int(0)),
    }
}

fn split_commas(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// Feeds header values to `each`: every one (`all` and no `occ`), the
/// `occ`-th (1-based; negative counts from the end) or the last.
fn header_values<'c>(
    headers: &'c HeaderBlock,
    name: &[u8],
    occ: i64,
    all: bool,
    split: bool,
    each: &mut dyn FnMut(Sample<'c>) -> bool,
) -> bool {
    let values = || {
        headers
            .iter()
            .filter(move |(n, _)| name.is_empty() || n.eq_ignore_ascii_case(name))
            .flat_map(move |(_, v)| {
                v.split(move |&b| split && b == b',')
                    .map(<[u8]>::trim_ascii)
            })
    };
    if occ == 0 && all {
        return values().any(|v| each(Sample::borrowed(v)));
    }
    let picked = if occ > 0 {
        values().nth(usize::try_from(occ - 1).unwrap_or(usize::MAX))
    } else {
        let count = values().count();
        let back = usize::try_from(occ.unsigned_abs().max(1)).unwrap_or(usize::MAX);
        count.checked_sub(back).and_then(|i| values().nth(i))
    };
    picked.is_some_and(|v| each(Sample::borrowed(v)))
}

fn url_param<'q>(query: &'q [u8], name: &[u8]) -> Option<&'q [u8]> {
    query.split(|&b| b == b'&' || b == b';').find_map(|pair| {
        let (n, v) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        (n == name).then_some(v)
    })
}

/// (name, value) of every cookie in every `Cookie` header.
fn cookies(headers: &HeaderBlock) -> impl Iterator<Item = (&[u8], &[u8])> {
    headers.values(b"cookie").flat_map(|v| {
        v.split(|&b| b == b';').filter_map(|c| {
            let c = c.trim_ascii();
            let eq = c.iter().position(|&b| b == b'=')?;
            Some((c[..eq].trim_ascii(), c[eq + 1..].trim_ascii()))
        })
    })
}
