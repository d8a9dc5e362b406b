//! The data plane: workers, listeners, sessions, `mode tcp` forwarding,
//! HTTP/1.1, server selection, connection pools, queues and health checks.
//!
//! [`serve`] binds every listener, starts one worker thread per core (each
//! with its own current-thread runtime and `SO_REUSEPORT` sockets) and one
//! health-check thread, and returns a [`Server`] handle to wait on or stop.
//! The data plane reads the compiled [`Program`] only.

pub mod balance;
mod connect;
pub mod error;
pub mod health;
mod hooks;
pub mod http;
pub mod listener;
pub mod pool;
pub mod queue;
mod session;
mod shared;
pub mod tcp;
#[cfg(test)]
pub(crate) mod testutil;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use crate::compile::program::{Program, ProxyId};
pub use error::{ProxyError, Side, StartError};
pub use hooks::Verdict;
use shared::{Shared, Stop};

/// How to run a program.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Worker threads; `None` = `global.nbthread`, else one per core.
    pub workers: Option<usize>,
}

/// A running data plane.
pub struct Server {
    threads: Vec<JoinHandle<()>>,
    stop: StopHandle,
    addrs: Vec<(ProxyId, SocketAddr)>,
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
    let per_worker = listener::bind_all(&program, workers)?;
    let addrs = per_worker
        .first()
        .map(|ls| ls.iter().map(|l| (l.proxy, l.addr)).collect())
        .unwrap_or_default();
    let shared = Arc::new(Shared::new(program));
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
