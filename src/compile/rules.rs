//! Rule lines (`acl`, `tcp-request`, `http-request`, `http-response`,
//! `use_backend`). Interim: the rules compiler is being written on its own
//! branch; until it lands these keywords are reported as not supported.

use std::path::Path;

use super::program::{Mode, ProxyId, ProxyKind, UseBackend, UserlistId};
use crate::config::ast::LineDecl;
use crate::config::diag::Diagnostic;
use crate::rules::ProxyRules;
use crate::stick::{TableId, TableSpec};

/// Names the rules may refer to; every proxy is known before rules compile.
pub trait Names {
    fn table(&self, name: &str) -> Option<TableId>;
    fn table_spec(&self, id: TableId) -> &TableSpec;
    fn backend(&self, name: &str) -> Option<ProxyId>;
    fn userlist(&self, name: &str) -> Option<UserlistId>;
}

/// The proxy whose rules are being compiled.
pub struct ProxyScope<'a> {
    pub kind: ProxyKind,
    pub name: &'a str,
    pub mode: Mode,
    pub own_table: Option<TableId>,
    pub base_dir: &'a Path,
}

/// Collects one proxy's rules.
#[derive(Default)]
pub struct RuleCompiler {}

impl RuleCompiler {
    pub fn new() -> RuleCompiler {
        RuleCompiler::default()
    }

    /// Handles a rule keyword; returns false for any other keyword.
    pub fn line(
        &mut self,
        line: &LineDecl,
        _scope: &ProxyScope,
        _names: &dyn Names,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let keyword = line.keyword();
        match keyword.text.as_str() {
            "acl" | "tcp-request" | "http-request" | "http-response" | "use_backend" => {
                diags.push(Diagnostic::error(
                    keyword.span,
                    format!("'{}' is not supported by lbd yet", keyword.text),
                ));
                true
            }
            _ => false,
        }
    }

    pub fn finish(self) -> (ProxyRules, Vec<UseBackend>) {
        (ProxyRules::default(), Vec::new())
    }
}
