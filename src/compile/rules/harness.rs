//! Test helpers: a `Names` over a few tables and backends, and a line
//! splitter that computes word spans like the parser does (no quoting).

use std::path::Path;

use super::{Names, ProxyScope, RuleCompiler};
use crate::compile::program::{
    Mode, Password, ProxyId, ProxyKind, UseBackend, User, Userlist, UserlistId,
};
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;
use crate::config::source::{FileId, Span};
use crate::rules::ProxyRules;
use crate::stick::{DataSpec, DataType, KeyType, TableId, TableSpec};

pub struct TestNames {
    pub tables: Vec<TableSpec>,
    pub backends: Vec<&'static str>,
    pub userlists: Vec<Userlist>,
}

pub fn spec(name: &str, key_type: KeyType, store: &[DataType]) -> TableSpec {
    TableSpec {
        name: name.to_string(),
        key_type,
        size: 1000,
        expire_ms: 30_000,
        nopurge: false,
        peers: None,
        store: store
            .iter()
            .map(|d| DataSpec {
                data_type: *d,
                period_ms: if d.is_rate() { 10_000 } else { 0 },
            })
            .collect(),
    }
}

impl TestNames {
    /// Tables `f` (the frontend's: conn_rate, gpc0... every type), `http`
    /// (gpc0), `test1` (conn_rate, bytes_out_rate), `str` (string keys),
    /// `st_ipv6`, `st_bin` (binary, len 8);
    /// backends `app`, `ease-up`; userlist `L` (user/pass).
    pub fn classic() -> TestNames {
        TestNames {
            tables: vec![
                spec("f", KeyType::Ip, &DataType::ALL),
                spec("http", KeyType::Ip, &[DataType::Gpc0]),
                spec(
                    "test1",
                    KeyType::Ip,
                    &[DataType::ConnRate, DataType::BytesOutRate],
                ),
                spec("str", KeyType::String { len: 32 }, &[DataType::Gpc0]),
                spec(
                    "st_ipv6",
                    KeyType::Ipv6,
                    &[DataType::Gpc0, DataType::HttpReqCnt],
                ),
                spec(
                    "st_bin",
                    KeyType::Binary { len: 8 },
                    &[DataType::HttpReqCnt],
                ),
            ],
            backends: vec!["app", "ease-up"],
            userlists: vec![Userlist {
                name: "L".into(),
                users: vec![User {
                    name: "user".into(),
                    password: Password::Insecure("pass".into()),
                    groups: vec![],
                }],
                groups: vec![],
            }],
        }
    }
}

impl Names for TestNames {
    fn table(&self, name: &str) -> Option<TableId> {
        self.tables
            .iter()
            .position(|t| t.name == name)
            .map(|i| TableId(i as u32))
    }
    fn table_spec(&self, id: TableId) -> &TableSpec {
        &self.tables[id.0 as usize]
    }
    fn backend(&self, name: &str) -> Option<ProxyId> {
        self.backends
            .iter()
            .position(|b| *b == name)
            .map(|i| ProxyId(i as u32 + 10))
    }
    fn userlist(&self, name: &str) -> Option<UserlistId> {
        self.userlists
            .iter()
            .position(|u| u.name == name)
            .map(|i| UserlistId(i as u32))
    }
    fn userlist_def(&self, id: UserlistId) -> &Userlist {
        &self.userlists[id.0 as usize]
    }
}

/// Splits a line on blanks into words with 1-based character columns.
pub fn line(text: &str, line_no: u32) -> LineDecl {
    let mut words = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let span = Span {
            file: FileId(0),
            line: line_no,
            col: start as u32 + 1,
            len: (i - start) as u32,
        };
        words.push(Word {
            text: chars[start..i].iter().collect(),
            span,
        });
    }
    let span = words.first().map(|w| w.span).unwrap_or_default();
    LineDecl { words, span }
}

pub struct Compiled {
    pub rules: ProxyRules,
    pub use_backend: Vec<UseBackend>,
    pub diags: Vec<Diagnostic>,
}

/// Compiles every line of `cfg` in frontend `f` (own table `f`).
pub fn compile_in(cfg: &str, mode: Mode, base_dir: &Path) -> Compiled {
    let names = TestNames::classic();
    let scope = ProxyScope {
        kind: ProxyKind::Frontend,
        name: "f",
        mode,
        own_table: Some(TableId(0)),
        base_dir,
    };
    let mut compiler = RuleCompiler::new();
    let mut diags = Vec::new();
    for (i, text) in cfg.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let decl = line(text, i as u32 + 1);
        assert!(
            compiler.line(&decl, &scope, &names, &mut diags),
            "not a rule line: {text}"
        );
    }
    let (rules, use_backend) = compiler.finish();
    Compiled {
        rules,
        use_backend,
        diags,
    }
}

pub fn compile(cfg: &str) -> Compiled {
    compile_in(cfg, Mode::Http, Path::new("."))
}

/// The only diagnostic of `cfg`, as (line, col, message).
pub fn one_diag(cfg: &str) -> (u32, u32, String) {
    let c = compile(cfg);
    assert_eq!(c.diags.len(), 1, "{:#?}", c.diags);
    let d = &c.diags[0];
    let span = d.span.unwrap_or_default();
    (span.line, span.col, d.message.clone())
}
