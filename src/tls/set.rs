//! Every TLS configuration of a program, built once at start and at reload.

use std::sync::Arc;

use ahash::AHashMap;
use rustls::{ClientConfig, ServerConfig};

use super::bind::bind_setup;
use super::server::server_connector;
use crate::compile::program::{Program, ProxyId};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The configuration still runs.
    Warning,
    /// The configuration cannot run.
    Error,
}

/// One thing `lbd -c` reports about TLS material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Says where: `frontend 'web' bind #1: ...`, or `backend 'app' server 's1': ...`.
    pub message: String,
}

/// The rustls configurations of a program's TLS binds and servers.
#[derive(Debug, Default)]
pub struct TlsSet {
    /// By proxy and index of the bind in `Proxy::binds`.
    binds: AHashMap<(ProxyId, usize), Arc<ServerConfig>>,
    /// By proxy and `Server::index`.
    servers: AHashMap<(ProxyId, u32), Arc<ClientConfig>>,
}

impl TlsSet {
    /// Loads every bind's and server's TLS material. Returns the set and
    /// every problem met; a set built with an `Error` problem lacks the
    /// configurations that failed, so the caller must not run it.
    pub fn build(program: &Program) -> (TlsSet, Vec<Problem>) {
        let mut set = TlsSet::default();
        let mut problems = Vec::new();
        for proxy in &program.proxies {
            let kind = proxy.kind.as_keyword();
            for (index, bind) in proxy.binds.iter().enumerate() {
                let Some(tls) = &bind.tls else { continue };
                let place = format!("{kind} '{}' bind #{}", proxy.name, index + 1);
                match bind_setup(tls, &program.global) {
                    Ok(setup) => {
                        problems.extend(setup.warnings.into_iter().map(|w| Problem {
                            severity: Severity::Warning,
                            message: format!("{place}: {w}"),
                        }));
                        set.binds.insert((proxy.id, index), setup.config);
                    }
                    Err(e) => problems.push(Problem {
                        severity: Severity::Error,
                        message: format!("{place}: {e}"),
                    }),
                }
            }
            for server in &proxy.servers {
                let Some(tls) = &server.tls else { continue };
                match server_connector(tls) {
                    Ok(config) => {
                        set.servers.insert((proxy.id, server.index), config);
                    }
                    Err(e) => problems.push(Problem {
                        severity: Severity::Error,
                        message: format!("{kind} '{}' server '{}': {e}", proxy.name, server.name),
                    }),
                }
            }
        }
        (set, problems)
    }

    /// The server configuration of bind `index` of `proxy`.
    pub fn bind(&self, proxy: ProxyId, index: usize) -> Option<&Arc<ServerConfig>> {
        self.binds.get(&(proxy, index))
    }

    /// The client configuration for server `index` of `proxy`.
    pub fn server(&self, proxy: ProxyId, index: u32) -> Option<&Arc<ClientConfig>> {
        self.servers.get(&(proxy, index))
    }
}

/// What `lbd -c` prints about TLS: loads every certificate, key and CA file
/// of the program and reports each problem, naming the file.
pub fn validate(program: &Program) -> Vec<Problem> {
    TlsSet::build(program).1
}
