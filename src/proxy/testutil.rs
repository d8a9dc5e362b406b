//! Builds `Program`s in code for the data plane's tests, until the compiler
//! can be used from them.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::compile::program::{
    Balance, Bind, BindAddr, Cap, ErrorFiles, Global, HashType, HealthCheck, Mode, Options,
    Program, Proxy, ProxyId, ProxyKind, Server, Timeouts,
};
use crate::rules::ProxyRules;
use crate::stats::{Counters, ServerState};

pub fn server(index: u32, addr: SocketAddr, weight: u32) -> Server {
    Server {
        index,
        uuid: index + 1,
        name: format!("s{}", index + 1),
        addr,
        weight,
        maxconn: 0,
        check: None,
        backup: false,
        tls: None,
        send_proxy: false,
        state: Arc::new(ServerState::new(weight, false)),
    }
}

/// Servers at the given addresses with the given weights.
pub fn servers(list: &[(SocketAddr, u32)]) -> Vec<Server> {
    list.iter()
        .enumerate()
        .map(|(i, (a, w))| server(i as u32, *a, *w))
        .collect()
}

pub fn timeouts() -> Timeouts {
    Timeouts {
        connect_ms: Some(1_000),
        client_ms: Some(5_000),
        server_ms: Some(5_000),
        ..Timeouts::default()
    }
}

/// A `listen` proxy: binds `bind` (if any) and balances over `servers`.
pub fn listen(id: u32, mode: Mode, bind: Option<SocketAddr>, servers: Vec<Server>) -> Proxy {
    Proxy {
        id: ProxyId(id),
        uuid: id + 1,
        name: format!("p{id}"),
        kind: ProxyKind::Listen,
        cap: Cap {
            frontend: bind.is_some(),
            backend: true,
        },
        mode,
        disabled: false,
        binds: bind
            .map(|a| Bind {
                addrs: vec![BindAddr::Inet(a)],
                name: None,
                tls: None,
                accept_proxy: false,
                v4v6: false,
                v6only: false,
            })
            .into_iter()
            .collect(),
        maxconn: 0,
        timeouts: timeouts(),
        retries: 3,
        options: Options::default(),
        balance: Balance::RoundRobin,
        hash_type: HashType::default(),
        servers,
        health_check: HealthCheck::Tcp,
        default_backend: None,
        use_backend: Vec::new(),
        table: None,
        rules: ProxyRules::default(),
        errorfiles: ErrorFiles::default(),
        stats_page: None,
        compression: None,
        logs: Vec::new(),
        frontend_counters: Arc::new(Counters::default()),
        backend_counters: Arc::new(Counters::default()),
    }
}

pub fn program(proxies: Vec<Proxy>) -> Program {
    Program {
        global: Global::default(),
        proxies,
        tables: Vec::new(),
        userlists: Vec::new(),
    }
}

/// A free loopback port: bound then released. Good enough for tests that
/// bind it again at once (the kernel does not hand it out again soon).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0");
    match l.and_then(|l| l.local_addr()) {
        Ok(a) => a,
        Err(e) => panic!("no loopback port: {e}"),
    }
}
