//! One proxy section (frontend, backend, listen), with the lines of its
//! `defaults` applied first.

use std::sync::Arc;

use super::args::{self, Place, keyword_text, required};
use super::bind;
use super::cx::Cx;
use super::errorfile;
use super::keywords::{
    self, BACKEND, DEFAULTS, FRONTEND, KeywordRow, LISTEN, PROXY_KEYWORDS, Support,
};
use super::log;
use super::program::{
    Balance, Bind, Cap, Compression, ErrorFiles, HashType, HealthCheck, HttpCheckExpect, LogTarget,
    Mode, Options, Proxy, ProxyId, ProxyKind, Server, StatsPage, Timeouts,
};
use super::proxy_options as opt;
use super::rules::{Names, ProxyScope, RuleCompiler};
use super::server::{self, ServerParams};
use super::suggest::best_match;
use crate::config::ast::{LineDecl, SectionDecl, Word};
use crate::config::diag::Diagnostic;
use crate::stats::Counters;
use crate::stick::TableId;

/// What the driver knows about a proxy before compiling it.
pub struct ProxyHeader<'a> {
    pub id: ProxyId,
    pub uuid: u32,
    pub name: &'a str,
    pub kind: ProxyKind,
    pub section: &'a SectionDecl,
    pub defaults: Option<&'a SectionDecl>,
    pub table: Option<TableId>,
}

/// A proxy being built, line by line.
struct Builder {
    kind: ProxyKind,
    mode: Mode,
    disabled: bool,
    binds: Vec<Bind>,
    maxconn: u32,
    timeouts: Timeouts,
    retries: u32,
    options: Options,
    balance: Balance,
    hash_type: HashType,
    default_server: ServerParams,
    servers: Vec<Server>,
    httpchk: Option<(String, String, String)>,
    check_expect: HttpCheckExpect,
    default_backend: Option<Word>,
    errorfiles: ErrorFiles,
    stats: StatsBuilder,
    compression: Option<Compression>,
    logs: Vec<LogTarget>,
    rules: RuleCompiler,
}

#[derive(Default)]
struct StatsBuilder {
    enabled: bool,
    uri: Option<String>,
    realm: Option<String>,
    auth: Vec<(String, String)>,
    refresh_ms: Option<u64>,
}

/// Compiles one proxy. Errors go to `cx`; the proxy is built regardless so
/// that later checks can go on.
pub fn compile(header: &ProxyHeader, names: &dyn Names, cx: &mut Cx) -> (Proxy, Option<Word>) {
    let mut b = Builder::new(header.kind);
    let place = Place {
        kind: header.kind.as_keyword(),
        name: Some(header.name),
    };
    let from_defaults = header
        .defaults
        .map(|d| d.lines.as_slice())
        .unwrap_or_default();
    for line in from_defaults {
        b.line(line, header, names, place, true, cx);
    }
    for line in &header.section.lines {
        b.line(line, header, names, place, false, cx);
    }
    b.finish(header)
}

/// Checks a `defaults` section on its own, so that its errors are reported
/// even when no proxy uses it.
pub fn check_defaults(section: &SectionDecl, names: &dyn Names, cx: &mut Cx) {
    let mut b = Builder::new(ProxyKind::Listen);
    let name = section.name.as_ref().map(|w| w.text.as_str());
    let place = Place {
        kind: "defaults",
        name,
    };
    let header = ProxyHeader {
        id: ProxyId(u32::MAX),
        uuid: 0,
        name: name.unwrap_or(""),
        kind: ProxyKind::Listen,
        section,
        defaults: None,
        table: None,
    };
    for line in &section.lines {
        b.line_in_defaults(line, &header, names, place, cx);
    }
}

impl Builder {
    fn new(kind: ProxyKind) -> Builder {
        Builder {
            kind,
            mode: Mode::Tcp,
            disabled: false,
            binds: Vec::new(),
            maxconn: 0,
            timeouts: Timeouts::default(),
            retries: 3,
            options: Options::default(),
            balance: Balance::default(),
            hash_type: HashType::default(),
            default_server: ServerParams::default(),
            servers: Vec::new(),
            httpchk: None,
            check_expect: HttpCheckExpect::default(),
            default_backend: None,
            errorfiles: ErrorFiles::default(),
            stats: StatsBuilder::default(),
            compression: None,
            logs: Vec::new(),
            rules: RuleCompiler::new(),
        }
    }

    fn section_bit(&self) -> u8 {
        match self.kind {
            ProxyKind::Frontend => FRONTEND,
            ProxyKind::Backend => BACKEND,
            ProxyKind::Listen => LISTEN,
        }
    }

    /// A `defaults` line checked in a defaults section of its own.
    fn line_in_defaults(
        &mut self,
        line: &LineDecl,
        header: &ProxyHeader,
        names: &dyn Names,
        place: Place,
        cx: &mut Cx,
    ) {
        let (row, at) = match lookup(line, place) {
            Ok(found) => found,
            Err(d) => return cx.report(d),
        };
        if row.sections & DEFAULTS == 0 {
            let msg = format!("'{}' is not allowed in a defaults section", row.name);
            return cx.report(Diagnostic::error(line.keyword().span, msg));
        }
        self.apply_row(row, at, line, header, names, cx);
    }

    /// One line of the proxy, or of its defaults when `inherited`.
    fn line(
        &mut self,
        line: &LineDecl,
        header: &ProxyHeader,
        names: &dyn Names,
        place: Place,
        inherited: bool,
        cx: &mut Cx,
    ) {
        let (row, at) = match lookup(line, place) {
            Ok(found) => found,
            // Errors of inherited lines are reported by `check_defaults`.
            Err(d) if !inherited => return cx.report(d),
            Err(_) => return,
        };
        if row.sections & self.section_bit() == 0 {
            if !inherited {
                cx.report(misplaced(row, line, place, self.kind));
            }
            return;
        }
        self.apply_row(row, at, line, header, names, cx);
    }

    fn apply_row(
        &mut self,
        row: &KeywordRow,
        at: usize,
        line: &LineDecl,
        header: &ProxyHeader,
        names: &dyn Names,
        cx: &mut Cx,
    ) {
        match row.support {
            Support::Supported => {}
            Support::NotSupported => {
                let msg = format!(
                    "'{}' is not supported by lbd",
                    keyword_text(line, at + keywords::word_count(row))
                );
                return cx.report(Diagnostic::error(line.keyword().span, msg));
            }
            Support::Removed(instead) => {
                let msg = format!(
                    "'{}' is not supported anymore by HAProxy 2.6 ({instead})",
                    row.name
                );
                return cx.report(Diagnostic::error(line.keyword().span, msg));
            }
        }
        if is_rule_keyword(row.name) {
            let base_dir = cx.base_dir(line.span);
            let scope = ProxyScope {
                kind: self.kind,
                name: header.name,
                mode: self.mode,
                own_table: header.table,
                base_dir: &base_dir,
            };
            let mut diags = Vec::new();
            self.rules.line(line, &scope, names, &mut diags);
            for d in diags {
                cx.report(d);
            }
            return;
        }
        let result = self.apply(row.name, at, line, cx);
        cx.check(result);
    }

    fn apply(
        &mut self,
        keyword: &str,
        at: usize,
        line: &LineDecl,
        cx: &mut Cx,
    ) -> Result<(), Diagnostic> {
        let enabled = at == 0;
        match keyword {
            "mode" => self.mode = opt::mode(line)?,
            "bind" => self.binds.push(bind::compile(line, cx)?),
            "maxconn" => {
                self.maxconn = args::uint(
                    required(line, 1, keyword, "a number")?,
                    keyword,
                    u64::from(u32::MAX),
                )? as u32;
                args::no_more(line, 2, keyword)?;
            }
            "retries" => {
                self.retries =
                    args::uint(required(line, 1, keyword, "a number")?, keyword, 1_000)? as u32;
                args::no_more(line, 2, keyword)?;
            }
            "disabled" => self.disabled = true,
            "enabled" => self.disabled = false,
            "description" => {}
            "id" => {
                args::uint(
                    required(line, 1, keyword, "a number")?,
                    keyword,
                    u64::from(i32::MAX as u32),
                )?;
                args::no_more(line, 2, keyword)?;
            }
            "balance" => self.balance = opt::balance(line)?,
            "hash-type" => self.hash_type = opt::hash_type(line)?,
            "default_backend" => {
                self.default_backend = Some(required(line, 1, keyword, "a backend name")?.clone());
                args::no_more(line, 2, keyword)?;
            }
            "default-server" => {
                let params = server::parse_params(line, 1, cx)?;
                self.default_server = params.over(&self.default_server);
            }
            "server" => {
                let index = self.servers.len() as u32;
                let server = server::compile(line, &self.default_server, index, cx)?;
                if let Some(dup) = self.servers.iter().find(|s| s.name == server.name) {
                    return Err(Diagnostic::error(
                        line.words[1].span,
                        format!("server '{}' is declared twice in this backend", dup.name),
                    ));
                }
                self.servers.push(server);
            }
            "errorfile" => {
                let (code, page) = errorfile::compile(line, cx)?;
                self.errorfiles.set(code, page);
            }
            "log" => self.log(line, cx.resolve_names)?,
            "stick-table" => {}
            "http-check expect" => self.check_expect = opt::http_check_expect(line)?,
            "compression" => self.compression(line)?,
            _ if keyword.starts_with("timeout ") => opt::timeout(&mut self.timeouts, line)?,
            _ if keyword.starts_with("stats ") => self.stats(keyword, line)?,
            "option httpchk" => {
                self.httpchk = enabled.then(|| opt::httpchk(line, at + 1)).transpose()?
            }
            _ if keyword.starts_with("option ") => {
                opt::option(&mut self.options, line, at + 1, enabled)?
            }
            _ => {
                return Err(Diagnostic::error(
                    line.keyword().span,
                    format!("'{keyword}' is not supported by lbd"),
                ));
            }
        }
        Ok(())
    }

    fn log(&mut self, line: &LineDecl, resolve: bool) -> Result<(), Diagnostic> {
        match line.words.get(1).map(|w| w.text.as_str()) {
            Some("global") => {
                self.options.log_global = true;
                Ok(())
            }
            _ => {
                self.logs.push(log::parse(line, 1, resolve)?);
                Ok(())
            }
        }
    }

    fn stats(&mut self, keyword: &str, line: &LineDecl) -> Result<(), Diagnostic> {
        let s = &mut self.stats;
        s.enabled = true;
        match keyword {
            "stats enable" | "stats hide-version" => args::no_more(line, 2, keyword),
            "stats uri" => {
                s.uri = Some(required(line, 2, keyword, "a URI prefix")?.text.clone());
                args::no_more(line, 3, keyword)
            }
            "stats realm" => {
                s.realm = Some(required(line, 2, keyword, "a realm")?.text.clone());
                args::no_more(line, 3, keyword)
            }
            "stats auth" => {
                let word = required(line, 2, keyword, "'<user>:<password>'")?;
                let (user, pass) = word.text.split_once(':').ok_or_else(|| {
                    Diagnostic::error(
                        word.span,
                        format!(
                            "'stats auth' expects '<user>:<password>', got '{}'",
                            word.text
                        ),
                    )
                })?;
                s.auth.push((user.to_string(), pass.to_string()));
                args::no_more(line, 3, keyword)
            }
            "stats refresh" => {
                s.refresh_ms = Some(args::time(required(line, 2, keyword, "a time")?, keyword)?);
                args::no_more(line, 3, keyword)
            }
            _ => Err(Diagnostic::error(
                line.keyword().span,
                format!("'{keyword}' is not supported by lbd"),
            )),
        }
    }

    fn compression(&mut self, line: &LineDecl) -> Result<(), Diagnostic> {
        let what = required(line, 1, "compression", "'algo', 'type' or 'offload'")?;
        let c = self.compression.get_or_insert_with(Compression::default);
        let values = line.words[2..].iter().map(|w| w.text.clone());
        match what.text.as_str() {
            "algo" => {
                for w in &line.words[2..] {
                    if !matches!(
                        w.text.as_str(),
                        "identity" | "gzip" | "deflate" | "raw-deflate"
                    ) {
                        return Err(Diagnostic::error(
                            w.span,
                            format!("unknown compression algorithm '{}'", w.text),
                        ));
                    }
                }
                c.algos.extend(values);
            }
            "type" => c.types.extend(values),
            "offload" => {}
            other => {
                return Err(Diagnostic::error(
                    what.span,
                    format!("'compression' expects 'algo', 'type' or 'offload', got '{other}'"),
                ));
            }
        }
        Ok(())
    }

    fn finish(self, header: &ProxyHeader) -> (Proxy, Option<Word>) {
        let cap = Cap {
            frontend: header.kind != ProxyKind::Backend,
            backend: header.kind != ProxyKind::Frontend,
        };
        let health_check = match self.httpchk {
            Some((method, uri, version)) => HealthCheck::Http {
                method,
                uri,
                version,
                expect: self.check_expect,
            },
            None => HealthCheck::Tcp,
        };
        let stats_page = self.stats.enabled.then(|| StatsPage {
            uri: self
                .stats
                .uri
                .unwrap_or_else(|| "/haproxy?stats".to_string()),
            realm: self.stats.realm,
            auth: self.stats.auth,
            refresh_ms: self.stats.refresh_ms,
        });
        let (rules, use_backend) = self.rules.finish();
        let proxy = Proxy {
            id: header.id,
            uuid: header.uuid,
            name: header.name.to_string(),
            kind: header.kind,
            cap,
            mode: self.mode,
            disabled: self.disabled,
            binds: self.binds,
            maxconn: self.maxconn,
            timeouts: self.timeouts,
            retries: self.retries,
            options: self.options,
            balance: self.balance,
            hash_type: self.hash_type,
            servers: self.servers,
            health_check,
            default_backend: None,
            use_backend,
            table: header.table,
            rules,
            errorfiles: self.errorfiles,
            stats_page,
            compression: self.compression,
            logs: self.logs,
            frontend_counters: Arc::new(Counters::default()),
            backend_counters: Arc::new(Counters::default()),
        };
        (proxy, self.default_backend)
    }
}

/// The keywords whose lines the rules compiler takes.
fn is_rule_keyword(name: &str) -> bool {
    matches!(
        name,
        "acl"
            | "use_backend"
            | "http-request"
            | "http-response"
            | "tcp-request connection"
            | "tcp-request content"
            | "tcp-request inspect-delay"
    )
}

/// The row of a line and the index of its keyword (1 after `no`/`default`).
fn lookup<'r>(line: &LineDecl, place: Place) -> Result<(&'r KeywordRow, usize), Diagnostic> {
    let first = line.keyword();
    let at = usize::from(matches!(first.text.as_str(), "no" | "default") && line.words.len() > 1);
    let words: Vec<&str> = line.words[at..]
        .iter()
        .take(2)
        .map(|w| w.text.as_str())
        .collect();
    let row = keywords::find(PROXY_KEYWORDS, &words).ok_or_else(|| unknown(line, at, place))?;
    if at == 1 && !row.name.starts_with("option ") && row.name != "log" {
        return Err(Diagnostic::error(
            first.span,
            format!("'{}' cannot be used with '{}'", first.text, row.name),
        ));
    }
    Ok((row, at))
}

fn unknown(line: &LineDecl, at: usize, place: Place) -> Diagnostic {
    let word = &line.words[at];
    let family = keywords::TWO_WORD_FAMILIES.contains(&word.text.as_str());
    if family && let Some(second) = line.words.get(at + 1) {
        let prefix = format!("{} ", word.text);
        let seconds = PROXY_KEYWORDS
            .iter()
            .filter_map(|r| r.name.strip_prefix(prefix.as_str()));
        let diag = Diagnostic::error(
            second.span,
            format!(
                "unknown keyword '{} {}' in {}",
                word.text,
                second.text,
                place.describe()
            ),
        );
        return match best_match(&second.text, seconds) {
            Some(m) => diag.with_help(format!("did you mean '{}{m}'?", prefix)),
            None => diag,
        };
    }
    let diag = Diagnostic::error(
        word.span,
        format!("unknown keyword '{}' in {}", word.text, place.describe()),
    );
    let names = PROXY_KEYWORDS
        .iter()
        .map(|r| r.name.split(' ').next().unwrap_or(r.name));
    match best_match(&word.text, names) {
        Some(m) => diag.with_help(format!("did you mean '{m}'?")),
        None => diag,
    }
}

/// A keyword in a section that does not take it: an error for keywords
/// that would change traffic (`server` in a frontend), a warning otherwise.
fn misplaced(row: &KeywordRow, line: &LineDecl, place: Place, kind: ProxyKind) -> Diagnostic {
    let missing = if kind == ProxyKind::Backend {
        "frontend"
    } else {
        "backend"
    };
    let what = place.describe();
    if matches!(
        row.name,
        "server" | "bind" | "default-server" | "use_backend"
    ) {
        return Diagnostic::error(
            line.keyword().span,
            format!(
                "'{}' not allowed because {what} has no {missing} capability",
                row.name
            ),
        );
    }
    Diagnostic::warning(
        line.keyword().span,
        format!(
            "'{}' will be ignored because {what} has no {missing} capability",
            row.name
        ),
    )
}
