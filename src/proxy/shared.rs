//! What every worker of one `serve` shares: the program, per-backend
//! selection state and queues, connection limits, rendered error pages, and
//! the stop signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Semaphore, watch};

use super::balance::Balancer;
use super::http::errors::ErrorPages;
use super::queue::Queue;
use super::splice::Pipes;
use crate::compile::program::{Program, Proxy, ProxyId};
use crate::stick::Tables;
use crate::tls::TlsSet;

/// How the process is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Running,
    /// Close listeners, let in-flight sessions finish (SIGUSR1).
    Graceful,
    /// Close everything now (SIGTERM).
    Now,
}

/// The pages lbd serves itself from live state: the stats page (`stats
/// uri`), its CSV form, and the Prometheus exporter (`use-service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePage {
    Html { refresh_s: Option<u64> },
    Csv,
    Prometheus,
}

/// Renders a [`ServicePage`] into (content type, body). Provided by the
/// process: the renderer reads state the data plane does not own.
pub type ServiceFn = Arc<dyn Fn(ServicePage) -> (&'static str, String) + Send + Sync>;

/// The renderer of the service pages, when the process provides one.
#[derive(Clone, Default)]
pub struct Services {
    pub render: Option<ServiceFn>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("render", &self.render.is_some())
            .finish()
    }
}

/// Runtime state of one backend.
#[derive(Debug)]
pub struct BackendRt {
    pub balancer: Balancer,
    pub queue: Arc<Queue>,
}

#[derive(Debug)]
pub struct Shared {
    pub program: Arc<Program>,
    /// The program's stick tables, shared with the runtime API.
    pub tables: Arc<Tables>,
    /// What `use-service` answers.
    pub services: Services,
    /// The rustls configurations of the program's TLS binds and servers.
    pub tls: Arc<TlsSet>,
    /// Indexed by `ProxyId` (every proxy has one; frontends leave it unused).
    pub backends: Vec<BackendRt>,
    /// `global.maxconn` across workers.
    pub global_conns: Arc<Semaphore>,
    /// Frontend `maxconn` by `ProxyId`, `None` when unset.
    pub frontend_conns: Vec<Option<Arc<Semaphore>>>,
    pub pages: ErrorPages,
    /// Traffic logs (`log` targets of the proxies).
    pub logs: super::log::Logs,
    /// Pipes for splicing tunnels; `None` with `nosplice`.
    pub pipes: Option<Arc<Pipes>>,
    /// The live streams of every worker (`show sess`).
    pub streams: Arc<crate::stats::Streams>,
    pub stop: watch::Sender<Stop>,
    stopping: AtomicBool,
}

impl Shared {
    pub fn new(program: Arc<Program>, tables: Arc<Tables>, tls: Arc<TlsSet>) -> Shared {
        let backends = program
            .proxies
            .iter()
            .map(|p| BackendRt {
                balancer: Balancer::new(p),
                queue: Arc::new(Queue::default()),
            })
            .collect();
        let frontend_conns = program
            .proxies
            .iter()
            .map(|p| {
                (p.cap.frontend && p.maxconn > 0)
                    .then(|| Arc::new(Semaphore::new(p.maxconn as usize)))
            })
            .collect();
        let global = program.global.maxconn.max(1) as usize;
        let pages = ErrorPages::new(&program);
        let logs = super::log::Logs::start(&program).unwrap_or_else(|e| {
            tracing::error!("cannot start the log thread, traffic is not logged: {e}");
            super::log::Logs::disabled(&program)
        });
        let pipes = Pipes::for_program(&program.global).map(Arc::new);
        Shared {
            logs,
            pipes,
            streams: Arc::default(),
            global_conns: Arc::new(Semaphore::new(global)),
            frontend_conns,
            backends,
            pages,
            program,
            tables,
            services: Services::default(),
            tls,
            stop: watch::channel(Stop::Running).0,
            stopping: AtomicBool::new(false),
        }
    }

    pub fn proxy(&self, id: ProxyId) -> &Proxy {
        self.program.proxy(id)
    }

    pub fn backend_rt(&self, id: ProxyId) -> &BackendRt {
        &self.backends[id.0 as usize]
    }

    /// Whether a stop was asked: sessions finish their current request and
    /// close instead of waiting for another.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    pub fn request_stop(&self, how: Stop) {
        self.stopping.store(true, Ordering::Relaxed);
        self.stop.send_if_modified(|cur| {
            let escalate = matches!(
                (*cur, how),
                (Stop::Running, _) | (Stop::Graceful, Stop::Now)
            );
            if escalate {
                *cur = how;
            }
            escalate
        });
    }
}
