//! Sample fetches: the static table the compiler reads (name, arguments,
//! output type, where usable) and the compiled [`Fetch`] the data plane runs.

use std::sync::Arc;

use super::auth::UserTable;
use super::sample::SampleType;
use crate::stick::{DataType, TableId};

/// Where a fetch may be used (bit set of rule contexts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage(pub u8);

impl Usage {
    pub const CONN: Usage = Usage(1);
    pub const CONTENT: Usage = Usage(2);
    pub const HTTP_REQ: Usage = Usage(4);
    pub const HTTP_RES: Usage = Usage(8);
    pub const ANY: Usage = Usage(15);
    /// Needs the HTTP request (not available in `http-response` rules).
    pub const REQ: Usage = Usage(2 | 4);
    /// The request's headers, or the response's in `http-response` rules.
    pub const MSG: Usage = Usage(2 | 4 | 8);
    /// After the TLS handshake: every rule set but `tcp-request connection`.
    pub const SESSION: Usage = Usage(2 | 4 | 8);

    pub fn allows(self, context: Usage) -> bool {
        self.0 & context.0 != 0
    }
}

/// The kind of one fetch argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Str,
    Int,
    /// A stick table name, resolved to a `TableId`.
    Table,
    /// A userlist name.
    Userlist,
}

impl ArgKind {
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Str => "a string",
            ArgKind::Int => "an integer",
            ArgKind::Table => "a table name",
            ArgKind::Userlist => "a userlist name",
        }
    }
}

/// An argument after resolution.
#[derive(Debug, Clone)]
pub enum ArgValue {
    Str(String),
    Int(i64),
    Table(TableId),
    Userlist(Arc<UserTable>),
}

/// One row of the fetch table.
#[derive(Debug)]
pub struct FetchDef {
    pub name: &'static str,
    pub args: &'static [ArgKind],
    /// How many of `args` are mandatory.
    pub required: usize,
    pub out: SampleType,
    pub usage: Usage,
    /// Whether `<name>_beg`, `_sub`, ... ACL forms exist.
    pub derivable: bool,
    /// Builds the compiled fetch from resolved arguments.
    pub build: fn(&[ArgValue]) -> Fetch,
    /// Checks argument values beyond their kinds; the error names the problem.
    pub check: Option<ArgCheck>,
}

/// A check of resolved argument values (see [`FetchDef::check`]).
pub type ArgCheck = fn(&[ArgValue]) -> Result<(), String>;

/// What a tracked-entry fetch does with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickOp {
    Read(DataType),
    /// A byte counter read in kilobytes (`kbytes_in`, `kbytes_out`).
    ReadKbytes(DataType),
    Inc(u8),
    Clr(u8),
    /// Whether the slot tracks an entry (`sc0_tracked`).
    Tracked,
}

impl StickOp {
    /// The data types that make this op meaningful (any of them).
    pub fn needs(self) -> &'static [DataType] {
        match self {
            StickOp::Read(DataType::Gpc0) | StickOp::Clr(0) => &[DataType::Gpc0],
            StickOp::Read(DataType::Gpc1) | StickOp::Clr(_) => &[DataType::Gpc1],
            StickOp::Inc(0) => &[DataType::Gpc0, DataType::Gpc0Rate],
            StickOp::Inc(_) => &[DataType::Gpc1, DataType::Gpc1Rate],
            // ALL lists every variant in declaration order, so `d as usize`
            // is always in bounds.
            StickOp::Read(d) | StickOp::ReadKbytes(d) => {
                std::slice::from_ref(&DataType::ALL[d as usize])
            }
            StickOp::Tracked => &[],
        }
    }
}

/// The stick fetch suffixes after `sc0_`, `sc_`, `src_`.
pub const STICK_OPS: &[(&str, StickOp)] = &[
    ("get_gpc0", StickOp::Read(DataType::Gpc0)),
    ("get_gpc1", StickOp::Read(DataType::Gpc1)),
    ("inc_gpc0", StickOp::Inc(0)),
    ("inc_gpc1", StickOp::Inc(1)),
    ("clr_gpc0", StickOp::Clr(0)),
    ("clr_gpc1", StickOp::Clr(1)),
    ("gpc0_rate", StickOp::Read(DataType::Gpc0Rate)),
    ("gpc1_rate", StickOp::Read(DataType::Gpc1Rate)),
    ("get_gpt0", StickOp::Read(DataType::Gpt0)),
    ("conn_cnt", StickOp::Read(DataType::ConnCnt)),
    ("conn_cur", StickOp::Read(DataType::ConnCur)),
    ("conn_rate", StickOp::Read(DataType::ConnRate)),
    ("sess_cnt", StickOp::Read(DataType::SessCnt)),
    ("sess_rate", StickOp::Read(DataType::SessRate)),
    ("http_req_cnt", StickOp::Read(DataType::HttpReqCnt)),
    ("http_req_rate", StickOp::Read(DataType::HttpReqRate)),
    ("http_err_cnt", StickOp::Read(DataType::HttpErrCnt)),
    ("http_err_rate", StickOp::Read(DataType::HttpErrRate)),
    ("bytes_in_rate", StickOp::Read(DataType::BytesInRate)),
    ("bytes_out_rate", StickOp::Read(DataType::BytesOutRate)),
    ("kbytes_in", StickOp::ReadKbytes(DataType::BytesInCnt)),
    ("kbytes_out", StickOp::ReadKbytes(DataType::BytesOutCnt)),
    ("tracked", StickOp::Tracked),
];

/// Which message's headers a header fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Req,
    Res,
    /// The response when there is one (`hdr` in `http-response` rules),
    /// else the request.
    Auto,
}

/// A compiled fetch with its resolved arguments.
#[derive(Debug, Clone)]
pub enum Fetch {
    Src,
    SrcPort,
    Dst,
    DstPort,
    /// `scN_*([table])` / `sc_*(N[,table])`: an op on the entry tracked in
    /// slot N, or on the entry with the same key in another table.
    Tracked {
        slot: u8,
        op: StickOp,
        table: Option<TableId>,
    },
    /// `src_*([table])`: an op on the client address's entry of a table.
    SrcEntry {
        table: TableId,
        op: StickOp,
    },
    TableCnt(TableId),
    TableAvl(TableId),
    /// `hdr(name[,occ])`; `occ` 0 = every value (ACL) or the last (sample).
    Hdr {
        dir: Dir,
        name: Box<[u8]>,
        occ: i64,
    },
    /// Whole field values, not split on commas (`fhdr`).
    FullHdr {
        dir: Dir,
        name: Box<[u8]>,
        occ: i64,
    },
    HdrCnt {
        dir: Dir,
        name: Box<[u8]>,
    },
    Path,
    Url,
    Query,
    Method,
    Version,
    Base,
    UrlParam(Box<[u8]>),
    Cook(Box<[u8]>),
    CookCnt(Box<[u8]>),
    Status,
    HttpAuth(Arc<UserTable>),
    /// `ssl_fc`: the client connection is deciphered by lbd.
    SslFc,
    SslFcSni,
    SslFcProtocol,
    SslFcAlpn,
    SslFcCipher,
    SslCUsed,
    SslCVerify,
    /// `ssl_c_s_dn([entry[,occ[,format]]])`: the whole subject when `entry`
    /// is empty, else one entry's value.
    SslCSDn {
        entry: Box<str>,
        occ: i64,
        rfc2253: bool,
    },
    /// `req.ssl_sni`: the name in a ClientHello seen in the request buffer.
    ReqSslSni,
    Bool(bool),
    Var(Box<str>),
    Str(Box<[u8]>),
    Int(i64),
}

fn s(args: &[ArgValue], i: usize) -> Box<[u8]> {
    match args.get(i) {
        Some(ArgValue::Str(v)) => v.as_bytes().into(),
        _ => Box::default(),
    }
}

fn n(args: &[ArgValue], i: usize) -> i64 {
    match args.get(i) {
        Some(ArgValue::Int(v)) => *v,
        _ => 0,
    }
}

fn hdr(a: &[ArgValue], dir: Dir) -> Fetch {
    Fetch::Hdr {
        dir,
        name: s(a, 0),
        occ: n(a, 1),
    }
}
fn fhdr(a: &[ArgValue], dir: Dir) -> Fetch {
    Fetch::FullHdr {
        dir,
        name: s(a, 0),
        occ: n(a, 1),
    }
}
fn hdr_cnt(a: &[ArgValue], dir: Dir) -> Fetch {
    Fetch::HdrCnt { dir, name: s(a, 0) }
}
fn table_of(a: &[ArgValue]) -> TableId {
    match a.first() {
        Some(ArgValue::Table(t)) => *t,
        _ => TableId(0),
    }
}

const STR: &[ArgKind] = &[ArgKind::Str];
const STR_INT: &[ArgKind] = &[ArgKind::Str, ArgKind::Int];
const NONE: &[ArgKind] = &[];

macro_rules! row {
    ($name:expr, $args:expr, $req:expr, $out:ident, $usage:ident, $derive:expr, $build:expr) => {
        FetchDef {
            name: $name,
            args: $args,
            required: $req,
            out: SampleType::$out,
            usage: Usage::$usage,
            derivable: $derive,
            build: $build,
            check: None,
        }
    };
}

/// `ssl_c_s_dn`'s third argument: empty or `rfc2253`.
fn check_dn_format(a: &[ArgValue]) -> Result<(), String> {
    match a.get(2) {
        Some(ArgValue::Str(f)) if !f.is_empty() && f != "rfc2253" => Err(format!(
            "only 'rfc2253' or an empty value are supported as format (argument 3), got '{f}'"
        )),
        _ => Ok(()),
    }
}

/// Every fetch lbd supports except the stick families (see [`STICK_OPS`]).
pub static FETCHES: &[FetchDef] = &[
    row!("src", NONE, 0, Ip, ANY, false, |_| Fetch::Src),
    row!("src_port", NONE, 0, Int, ANY, false, |_| Fetch::SrcPort),
    row!("dst", NONE, 0, Ip, ANY, false, |_| Fetch::Dst),
    row!("dst_port", NONE, 0, Int, ANY, false, |_| Fetch::DstPort),
    row!("table_cnt", &[ArgKind::Table], 0, Int, ANY, false, |a| {
        Fetch::TableCnt(table_of(a))
    }),
    row!("table_avl", &[ArgKind::Table], 0, Int, ANY, false, |a| {
        Fetch::TableAvl(table_of(a))
    }),
    row!("always_true", NONE, 0, Bool, ANY, false, |_| Fetch::Bool(
        true
    )),
    row!("always_false", NONE, 0, Bool, ANY, false, |_| {
        Fetch::Bool(false)
    }),
    row!("ssl_fc", NONE, 0, Bool, SESSION, false, |_| Fetch::SslFc),
    row!("ssl_fc_sni", NONE, 0, Str, SESSION, true, |_| {
        Fetch::SslFcSni
    }),
    row!("ssl_fc_protocol", NONE, 0, Str, SESSION, false, |_| {
        Fetch::SslFcProtocol
    }),
    row!("ssl_fc_alpn", NONE, 0, Str, SESSION, false, |_| {
        Fetch::SslFcAlpn
    }),
    row!("ssl_fc_cipher", NONE, 0, Str, SESSION, false, |_| {
        Fetch::SslFcCipher
    }),
    row!("ssl_c_used", NONE, 0, Bool, SESSION, false, |_| {
        Fetch::SslCUsed
    }),
    row!("ssl_c_verify", NONE, 0, Int, SESSION, false, |_| {
        Fetch::SslCVerify
    }),
    FetchDef {
        name: "ssl_c_s_dn",
        args: &[ArgKind::Str, ArgKind::Int, ArgKind::Str],
        required: 0,
        out: SampleType::Str,
        usage: Usage::SESSION,
        derivable: false,
        build: |a| Fetch::SslCSDn {
            entry: String::from_utf8_lossy(&s(a, 0)).into(),
            // A missing occurrence means the first entry.
            occ: if a.len() > 1 { n(a, 1) } else { 1 },
            rfc2253: &*s(a, 2) == b"rfc2253",
        },
        check: Some(check_dn_format),
    },
    row!("req.ssl_sni", NONE, 0, Str, REQ, false, |_| {
        Fetch::ReqSslSni
    }),
    row!("req_ssl_sni", NONE, 0, Str, REQ, false, |_| {
        Fetch::ReqSslSni
    }),
    row!("str", STR, 1, Str, ANY, false, |a| Fetch::Str(s(a, 0))),
    row!("int", &[ArgKind::Int], 1, Int, ANY, false, |a| {
        Fetch::Int(n(a, 0))
    }),
    row!("hdr", STR_INT, 0, Str, MSG, true, |a| hdr(a, Dir::Auto)),
    row!("req.hdr", STR_INT, 0, Str, REQ, false, |a| hdr(a, Dir::Req)),
    row!("res.hdr", STR_INT, 0, Str, HTTP_RES, false, |a| hdr(
        a,
        Dir::Res
    )),
    row!("fhdr", STR_INT, 0, Str, MSG, false, |a| fhdr(a, Dir::Auto)),
    row!("req.fhdr", STR_INT, 0, Str, REQ, false, |a| fhdr(
        a,
        Dir::Req
    )),
    row!("res.fhdr", STR_INT, 0, Str, HTTP_RES, false, |a| fhdr(
        a,
        Dir::Res
    )),
    row!("hdr_cnt", STR, 0, Int, MSG, false, |a| hdr_cnt(
        a,
        Dir::Auto
    )),
    row!("req.hdr_cnt", STR, 0, Int, REQ, false, |a| hdr_cnt(
        a,
        Dir::Req
    )),
    row!("res.hdr_cnt", STR, 0, Int, HTTP_RES, false, |a| hdr_cnt(
        a,
        Dir::Res
    )),
    row!("path", NONE, 0, Str, REQ, true, |_| Fetch::Path),
    row!("url", NONE, 0, Str, REQ, true, |_| Fetch::Url),
    row!("query", NONE, 0, Str, REQ, false, |_| Fetch::Query),
    row!("method", NONE, 0, Str, REQ, false, |_| Fetch::Method),
    row!("req.ver", NONE, 0, Str, REQ, false, |_| Fetch::Version),
    row!("base", NONE, 0, Str, REQ, true, |_| Fetch::Base),
    row!("url_param", STR, 1, Str, REQ, true, |a| Fetch::UrlParam(s(
        a, 0
    ))),
    row!("urlp", STR, 1, Str, REQ, true, |a| Fetch::UrlParam(s(a, 0))),
    row!("cook", STR, 0, Str, REQ, true, |a| Fetch::Cook(s(a, 0))),
    row!("req.cook", STR, 0, Str, REQ, false, |a| Fetch::Cook(s(
        a, 0
    ))),
    row!("cook_cnt", STR, 0, Int, REQ, false, |a| Fetch::CookCnt(s(
        a, 0
    ))),
    row!("req.cook_cnt", STR, 0, Int, REQ, false, |a| {
        Fetch::CookCnt(s(a, 0))
    }),
    row!("status", NONE, 0, Int, HTTP_RES, false, |_| {
        Fetch::Status
    }),
    row!(
        "http_auth",
        &[ArgKind::Userlist],
        1,
        Bool,
        REQ,
        false,
        |a| match a.first() {
            Some(ArgValue::Userlist(u)) => Fetch::HttpAuth(u.clone()),
            _ => Fetch::Bool(false),
        }
    ),
    row!("var", STR, 1, Str, ANY, false, |a| {
        Fetch::Var(String::from_utf8_lossy(&s(a, 0)).into())
    }),
];

/// Fetches HAProxy 2.6 has that lbd does not (reported as such, not as unknown).
pub const UNSUPPORTED_FETCHES: &[&str] = &[
    "wurfl-get",
    "wurfl-get-all",
    "51d.all",
    "51d.single",
    "da-csv-fetch",
    "url_ip",
    "url_port",
    "req.proto_http",
    "req_proto_http",
    "http_first_req",
    "fc_rcvd_proxy",
    "bc_src",
    "be_id",
    "fe_id",
    "fe_name",
    "be_name",
    "srv_id",
    "srv_name",
    "src_is_local",
    "ssl_fc_has_crt",
    "req.len",
    "req_len",
    "req.payload",
    "req.payload_lv",
    "req.ssl_hello_type",
    "req.rdp_cookie",
    "req.body",
    "req.body_param",
    "res.body",
    "capture.req.hdr",
    "capture.res.hdr",
    "http_auth_group",
    "http_first_req",
    "nbsrv",
    "srv_is_up",
    "be_conn",
    "fe_conn",
    "be_sess_rate",
    "fe_sess_rate",
    "queue",
    "avg_queue",
    "connslots",
    "env",
    "date",
    "rand",
    "uuid",
    "unique-id",
    "lat_ns_avg",
    "so_id",
    "src_is_local",
    "dst_is_local",
    "wait_end",
    "map",
    "payload",
    "payload_lv",
    "bc_http_major",
    "fc_http_major",
    "hdr_names",
    "req.hdr_names",
    "url32",
    "url32+src",
    "base32",
    "base32+src",
    "shdr",
    "res.cook",
    "scook",
    "set-cookie",
    "res.ver",
    "resp_ver",
    "capture.req.method",
    "capture.req.uri",
    "sc_trackers",
    "sc0_trackers",
    "src_updt_conn_cnt",
];

/// The table row of a plain fetch.
pub fn find(name: &str) -> Option<&'static FetchDef> {
    FETCHES.iter().find(|d| d.name == name)
}

/// The stick op of a suffix (`get_gpc0`).
pub fn stick_op(suffix: &str) -> Option<StickOp> {
    STICK_OPS
        .iter()
        .find(|(n, _)| *n == suffix)
        .map(|(_, op)| *op)
}

impl StickOp {
    pub fn out(self) -> SampleType {
        match self {
            StickOp::Tracked => SampleType::Bool,
            _ => SampleType::Int,
        }
    }
}

/// Every name the fetch table knows, for "did you mean".
pub fn all_names() -> impl Iterator<Item = String> {
    let plain = FETCHES.iter().map(|d| d.name.to_string());
    let stick = STICK_OPS.iter().flat_map(|(suffix, op)| {
        let mut names = vec![format!("sc0_{suffix}"), format!("sc_{suffix}")];
        if *op != StickOp::Tracked {
            names.push(format!("src_{suffix}"));
        }
        names
    });
    plain.chain(stick)
}
