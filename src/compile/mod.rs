//! AST → `Program`: resolves names, type-checks ACLs, builds pattern sets.
//!
//! Compilation runs in three steps: `global` sections; a scan that names
//! every proxy, table, userlist and defaults section (so that a rule may name
//! a backend declared further down); then each proxy, with its defaults
//! applied first. Every problem of every file is reported, in source order.

pub mod acl;
pub mod action;
pub mod addr;
pub mod args;
pub mod bind;
pub mod counter;
pub mod cx;
pub mod errorfile;
pub mod global;
pub mod keywords;
pub mod layout;
pub mod log;
pub mod logformat;
pub mod program;
pub mod proxy;
pub mod proxy_options;
pub mod redirect;
pub mod rules;
pub mod sample;
pub mod server;
pub mod suggest;
pub mod table;
pub mod term;
pub mod userlist;

use crate::config::ast::{ConfigDecl, SectionKind, Word};
use crate::config::diag::Diagnostic;
use crate::config::source::SourceMap;
use cx::Cx;
use layout::Layout;
use program::{Mode, Program, Proxy, ProxyId};

/// The outcome of compiling a configuration.
#[derive(Debug)]
pub struct Compiled {
    /// The program, when there was no error (warnings allowed).
    pub program: Option<Program>,
    /// Every warning and error, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Compiles a parsed configuration.
pub fn compile(config: &ConfigDecl, sources: &SourceMap) -> Compiled {
    compile_with(config, sources, true)
}

/// [`compile`], choosing whether host names are looked up (the fuzzer
/// must not send DNS queries).
pub fn compile_with(config: &ConfigDecl, sources: &SourceMap, resolve_names: bool) -> Compiled {
    let mut cx = Cx::new(sources);
    cx.resolve_names = resolve_names;
    let globals = config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Global);
    let global = global::compile(globals, &mut cx);
    let layout = Layout::scan(config, &mut cx);
    for section in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Defaults)
    {
        proxy::check_defaults(section, &layout, &mut cx);
    }
    let mut proxies = Vec::with_capacity(layout.proxies.len());
    let mut default_backends = Vec::with_capacity(layout.proxies.len());
    for header in &layout.proxies {
        let (proxy, default_backend) = proxy::compile(header, &layout, &mut cx);
        proxies.push(proxy);
        default_backends.push(default_backend);
    }
    resolve_default_backends(&mut proxies, default_backends, &layout, &mut cx);
    check_frontends(&proxies, &layout, &mut cx);
    for (proxy, header) in proxies.iter().zip(&layout.proxies) {
        let span = header
            .section
            .name
            .as_ref()
            .map_or(header.section.keyword_span, |w| w.span);
        for rule in &proxy.use_backend {
            cx.backend_references.push((proxy.id, rule.backend, span));
        }
    }
    check_modes(&proxies, &mut cx);
    let program = Program {
        global,
        proxies,
        tables: layout.tables,
        userlists: layout.userlists,
    };
    let failed = cx.has_errors();
    Compiled {
        program: (!failed).then_some(program),
        diagnostics: cx.into_diagnostics(),
    }
}

/// Turns each `default_backend` name into a backend id.
fn resolve_default_backends(
    proxies: &mut [Proxy],
    names: Vec<Option<Word>>,
    layout: &Layout,
    cx: &mut Cx,
) {
    for (proxy, name) in proxies.iter_mut().zip(names) {
        let Some(word) = name else { continue };
        if !proxy.cap.frontend {
            continue;
        }
        match layout.backend_id(&word.text) {
            Some(id) => {
                proxy.default_backend = Some(id);
                cx.backend_references.push((proxy.id, id, word.span));
            }
            None => cx.report(layout.unknown_backend(&word)),
        }
    }
}

/// An http frontend cannot hand its traffic to a tcp backend (the other way
/// round is allowed: a tcp frontend may upgrade to http).
fn check_modes(proxies: &[Proxy], cx: &mut Cx) {
    for (frontend, backend, span) in std::mem::take(&mut cx.backend_references) {
        let (fe, be) = (&proxies[frontend.0 as usize], &proxies[backend.0 as usize]);
        if fe.mode == Mode::Http && be.mode == Mode::Tcp {
            cx.report(Diagnostic::error(
                span,
                format!(
                    "http {} '{}' cannot use tcp backend '{}' (see 'mode')",
                    fe.kind.as_keyword(),
                    fe.name,
                    be.name
                ),
            ));
        }
    }
}

/// A frontend needs somewhere to listen; HAProxy refuses one without `bind`.
fn check_frontends(proxies: &[Proxy], layout: &Layout, cx: &mut Cx) {
    for (proxy, header) in proxies.iter().zip(&layout.proxies) {
        if proxy.cap.frontend && proxy.binds.is_empty() && !proxy.disabled {
            let span = header
                .section
                .name
                .as_ref()
                .map_or(header.section.keyword_span, |w| w.span);
            cx.report(Diagnostic::error(
                span,
                format!(
                    "{} '{}' has no 'bind' line (declare it as a backend if it only forwards)",
                    proxy.kind.as_keyword(),
                    proxy.name
                ),
            ));
        }
    }
}

/// A proxy id for tests and tools that need one.
pub fn proxy_id(index: usize) -> ProxyId {
    ProxyId(index as u32)
}
