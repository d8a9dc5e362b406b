//! The data plane: workers, listeners, sessions, `mode tcp` forwarding,
//! HTTP/1.1, server selection, connection pools, queues and health checks.
//!
//! [`serve`] binds every listener, starts one worker thread per core (each
//! with its own current-thread runtime and `SO_REUSEPORT` sockets) and one
//! health-check thread, and returns a [`Server`] handle to wait on or stop.
//! The data plane reads the compiled [`Program`] only.

pub mod balance;
mod conn;
mod connect;
pub mod error;
pub mod health;
mod hooks;
mod housekeeping;
pub mod http;
pub mod listener;
pub mod log;
pub mod pool;
pub mod proxy_protocol;
pub mod queue;
mod session;
mod shared;
pub mod splice;
pub mod tcp;
#[cfg(test)]
pub(crate) mod testutil;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use crate::compile::program::{Program, ProxyId};
use crate::stick::Tables;
pub use error::{ProxyError, Side, StartError};
pub use hooks::Verdict;
pub use shared::{ServiceFn, ServicePage, Services};
use shared::{Shared, Stop};

/// How to run a program.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Worker threads; `None` = `global.nbthread`, else one per core.
    pub workers: Option<usize>,
    /// The stick tables to use (shared with the runtime API); `None` = new
    /// tables built from the program.
    pub tables: Option<Arc<Tables>>,
    /// What `use-service` answers.
    pub services: shared::Services,
    /// The program's TLS configurations when already loaded (by
    /// `reload::load_program`); `None` = load them here.
    pub tls: Option<Arc<crate::tls::TlsSet>>,
}

/// A running data plane.
pub struct Server {
    threads: Vec<JoinHandle<()>>,
    stop: StopHandle,
    addrs: Vec<(ProxyId, SocketAddr)>,
}

impl Server {
    /// The pipe budget of the tunnels, `None` with `nosplice` (for `show
    /// info`).
    pub fn pipes(&self) -> Option<Arc<crate::stats::PipeCounts>> {
        self.stop.shared.pipes.as_ref().map(|p| p.counts())
    }

    /// The live streams of every worker (for `show sess`).
    pub fn streams(&self) -> Arc<crate::stats::Streams> {
        Arc::clone(&self.stop.shared.streams)
    }
}

/// Stops a running [`Server`] from another thread (a signal handler, the
/// runtime API).
#[derive(Clone)]
pub struct StopHandle {
    shared: Arc<Shared>,
}

impl StopHandle {
    /// SIGTERM: close every connection now.
    pub fn stop_now(&self) {
        self.shared.request_stop(Stop::Now);
    }

    /// SIGUSR1: close the listeners, let in-flight sessions end (bounded by
    /// `hard-stop-after`); keep-alive connections close after their current
    /// request.
    pub fn stop_gracefully(&self) {
        self.shared.request_stop(Stop::Graceful);
    }
}

/// Binds every listener, then starts the workers and the health checker.
pub fn serve(program: Arc<Program>, opts: ServeOptions) -> Result<Server, StartError> {
    let workers = opts
        .workers
        .or(program.global.nbthread.map(|n| n as usize))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let tls = match opts.tls {
        Some(tls) => tls,
        None => Arc::new(load_tls(&program)?),
    };
    let per_worker = listener::bind_all(&program, &tls, workers)?;
    let addrs = per_worker
        .first()
        .map(|ls| ls.iter().map(|l| (l.proxy, l.addr)).collect())
        .unwrap_or_default();
    let tables = opts
        .tables
        .unwrap_or_else(|| Arc::new(Tables::new(program.tables.clone())));
    let mut shared = Shared::new(program, tables, tls);
    shared.services = opts.services;
    shared.streams = Arc::new(crate::stats::Streams::new(workers));
    let shared = Arc::new(shared);
    let stop = StopHandle {
        shared: Arc::clone(&shared),
    };
    let mut threads = Vec::with_capacity(workers + 1);
    for (i, listeners) in per_worker.into_iter().enumerate() {
        match worker::spawn(i, listeners, Arc::clone(&shared)) {
            Ok(t) => threads.push(t),
            Err(e) => {
                stop.stop_now();
                return Err(StartError::Thread(e));
            }
        }
    }
    match housekeeping::spawn(Arc::clone(&shared)) {
        Ok(t) => threads.push(t),
        Err(e) => {
            stop.stop_now();
            return Err(StartError::Thread(e));
        }
    }
    match health::spawn(Arc::clone(&shared)) {
        Ok(Some(t)) => threads.push(t),
        Ok(None) => {}
        Err(e) => {
            stop.stop_now();
            return Err(StartError::Thread(e));
        }
    }
    Ok(Server {
        threads,
        stop,
        addrs,
    })
}

/// Loads every certificate, key and CA file of the program.
fn load_tls(program: &Program) -> Result<crate::tls::TlsSet, StartError> {
    let (set, problems) = crate::tls::TlsSet::build(program);
    let errors: Vec<String> = problems
        .into_iter()
        .filter(|p| p.severity == crate::tls::Severity::Error)
        .map(|p| p.message)
        .collect();
    match errors.is_empty() {
        true => Ok(set),
        false => Err(StartError::Tls(errors)),
    }
}

impl Server {
    /// The bound addresses by frontend (with any port 0 resolved).
    pub fn local_addrs(&self) -> &[(ProxyId, SocketAddr)] {
        &self.addrs
    }

    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    pub fn stop_now(&self) {
        self.stop.stop_now();
    }

    pub fn stop_gracefully(&self) {
        self.stop.stop_gracefully();
    }

    /// Requests waiting in `backend`'s queue now (`qcur` of the backend).
    pub fn queued(&self, backend: ProxyId) -> u32 {
        self.stop
            .shared
            .backends
            .get(backend.0 as usize)
            .map_or(0, |b| b.queue.waiting())
    }

    /// Blocks until every worker and the checker have ended.
    pub fn wait(self) {
        for t in self.threads {
            if t.join().is_err() {
                tracing::error!("a worker thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests;
