//! The scan before compilation: every proxy, table, userlist and defaults
//! section gets its name and id, so that any line may refer to any of them.

use ahash::AHashMap;

use super::cx::Cx;
use super::program::{ProxyId, ProxyKind, Userlist, UserlistId};
use super::proxy::ProxyHeader;
use super::rules::Names;
use super::suggest::best_match;
use super::{table, userlist};
use crate::config::ast::{ConfigDecl, SectionDecl, SectionKind, Word};
use crate::config::diag::Diagnostic;
use crate::stick::{TableId, TableSpec};

/// Names and ids of everything a configuration declares.
pub struct Layout<'c> {
    pub proxies: Vec<ProxyHeader<'c>>,
    pub tables: Vec<TableSpec>,
    pub userlists: Vec<Userlist>,
    backends: AHashMap<&'c str, ProxyId>,
    /// Every proxy by name (a frontend and a backend may share one).
    by_name: AHashMap<&'c str, Vec<ProxyId>>,
    tables_by_name: AHashMap<String, TableId>,
}

impl<'c> Layout<'c> {
    /// Scans every section; duplicate names and bad headers are reported.
    pub fn scan(config: &'c ConfigDecl, cx: &mut Cx) -> Layout<'c> {
        let mut layout = Layout {
            proxies: Vec::new(),
            tables: Vec::new(),
            userlists: Vec::new(),
            backends: AHashMap::new(),
            by_name: AHashMap::new(),
            tables_by_name: AHashMap::new(),
        };
        let mut named_defaults: AHashMap<&str, &SectionDecl> = AHashMap::new();
        let mut last_defaults: Option<&SectionDecl> = None;
        for section in &config.sections {
            match section.kind {
                SectionKind::Defaults => {
                    if let Some(from) = &section.from {
                        // `defaults B from A`: B's lines come after A's.
                        if !named_defaults.contains_key(from.text.as_str()) {
                            cx.report(unknown_defaults(from));
                        }
                    }
                    if let Some(name) = &section.name {
                        named_defaults.insert(name.text.as_str(), section);
                    }
                    last_defaults = Some(section);
                }
                SectionKind::Frontend | SectionKind::Backend | SectionKind::Listen => {
                    let defaults = match &section.from {
                        Some(from) => match named_defaults.get(from.text.as_str()) {
                            Some(d) => Some(*d),
                            None => {
                                cx.report(unknown_defaults(from));
                                None
                            }
                        },
                        None => last_defaults,
                    };
                    layout.add_proxy(section, defaults, cx);
                }
                SectionKind::Userlist => layout.add_userlist(section, cx),
                SectionKind::Global | SectionKind::Peers => {}
                other => cx.report(Diagnostic::error(
                    section.keyword_span,
                    format!("'{}' sections are not supported by lbd", other.as_keyword()),
                )),
            }
        }
        layout.assign_uuids();
        layout
    }

    fn add_proxy(
        &mut self,
        section: &'c SectionDecl,
        defaults: Option<&'c SectionDecl>,
        cx: &mut Cx,
    ) {
        let kind = match section.kind {
            SectionKind::Frontend => ProxyKind::Frontend,
            SectionKind::Backend => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        let Some(name) = &section.name else {
            let msg = format!("'{}' needs a name", kind.as_keyword());
            return cx.report(Diagnostic::error(section.keyword_span, msg));
        };
        if let Some(extra) = section.extra.first() {
            let msg = format!(
                "unexpected '{}' after {} '{}'",
                extra.text,
                kind.as_keyword(),
                name.text
            );
            cx.report(Diagnostic::error(extra.span, msg));
        }
        let same_name = self
            .by_name
            .get(name.text.as_str())
            .map_or(&[][..], Vec::as_slice);
        if let Some(dup) = same_name
            .iter()
            .map(|id| &self.proxies[id.0 as usize])
            .find(|p| clashes(p.kind, kind))
        {
            let msg = format!(
                "{} '{}' has the same name as {} '{}' declared before",
                kind.as_keyword(),
                name.text,
                dup.kind.as_keyword(),
                dup.name
            );
            return cx.report(Diagnostic::error(name.span, msg));
        }
        let id = ProxyId(self.proxies.len() as u32);
        self.by_name.entry(name.text.as_str()).or_default().push(id);
        if kind != ProxyKind::Frontend {
            self.backends.insert(name.text.as_str(), id);
        }
        let table = self.add_table(section, &name.text, cx);
        self.proxies.push(ProxyHeader {
            id,
            uuid: 0,
            name: &name.text,
            kind,
            section,
            defaults,
            table,
        });
    }

    /// Compiles the proxy's `stick-table` line, if any (one per proxy).
    fn add_table(&mut self, section: &SectionDecl, name: &str, cx: &mut Cx) -> Option<TableId> {
        let mut lines = section
            .lines
            .iter()
            .filter(|l| l.keyword().text == "stick-table");
        let line = lines.next()?;
        if let Some(second) = lines.next() {
            cx.report(Diagnostic::error(
                second.keyword().span,
                format!("only one 'stick-table' is allowed per proxy ('{name}')"),
            ));
        }
        let spec = cx.check(table::compile(line, name))?;
        let id = TableId(self.tables.len() as u32);
        self.tables_by_name.insert(name.to_string(), id);
        self.tables.push(spec);
        Some(id)
    }

    fn add_userlist(&mut self, section: &SectionDecl, cx: &mut Cx) {
        let Some(name) = &section.name else {
            return cx.report(Diagnostic::error(
                section.keyword_span,
                "'userlist' needs a name",
            ));
        };
        let list = userlist::compile(section, &name.text, &mut |d| cx.report(d));
        self.userlists.push(list);
    }

    /// HAProxy numbers proxies from 2 in declaration order (1 is its own
    /// CLI proxy), skipping ids set with `id`.
    fn assign_uuids(&mut self) {
        let explicit: Vec<u32> = self
            .proxies
            .iter()
            .filter_map(|p| explicit_id(p.section))
            .collect();
        let mut next = 2;
        for p in &mut self.proxies {
            p.uuid = match explicit_id(p.section) {
                Some(id) => id,
                None => {
                    while explicit.contains(&next) {
                        next += 1;
                    }
                    next += 1;
                    next - 1
                }
            };
        }
    }

    pub fn backend_id(&self, name: &str) -> Option<ProxyId> {
        self.backends.get(name).copied()
    }

    /// "unknown backend 'x'" with the closest backend name as a hint.
    pub fn unknown_backend(&self, word: &Word) -> Diagnostic {
        let diag = Diagnostic::error(word.span, format!("unknown backend '{}'", word.text));
        match best_match(&word.text, self.backends.keys().copied()) {
            Some(m) => diag.with_help(format!("did you mean '{m}'?")),
            None => diag,
        }
    }
}

impl Names for Layout<'_> {
    fn table(&self, name: &str) -> Option<TableId> {
        self.tables_by_name.get(name).copied()
    }

    fn table_spec(&self, id: TableId) -> &TableSpec {
        &self.tables[id.0 as usize]
    }

    fn backend(&self, name: &str) -> Option<ProxyId> {
        self.backend_id(name)
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

/// Two proxies clash when they share a side: a frontend and a backend may
/// have the same name, a listen clashes with both.
fn clashes(a: ProxyKind, b: ProxyKind) -> bool {
    !matches!(
        (a, b),
        (ProxyKind::Frontend, ProxyKind::Backend) | (ProxyKind::Backend, ProxyKind::Frontend)
    )
}

fn explicit_id(section: &SectionDecl) -> Option<u32> {
    section
        .lines
        .iter()
        .find(|l| l.keyword().text == "id")
        .and_then(|l| l.words.get(1))
        .and_then(|w| w.text.parse().ok())
}

fn unknown_defaults(word: &Word) -> Diagnostic {
    Diagnostic::error(
        word.span,
        format!("unknown defaults section '{}'", word.text),
    )
}
