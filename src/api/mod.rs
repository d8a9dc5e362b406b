//! The runtime API: HAProxy 2.6's CLI on every `stats socket` of the
//! program, driven by `socat`, `hatop` and `prometheus-haproxy-exporter`.
//!
//! * socket.rs: binding (stale files replaced, mode applied), one thread
//!   with a current-thread runtime, one task per client, line framing,
//!   prompt mode, timeouts.
//! * command.rs: request line → commands → words, and the command table.
//! * exec.rs: the handlers; every change goes to the shared atomics of
//!   `stats` and to the stick tables, so workers see it at once.
//! * format/: one file per `show`, plus the stats page and Prometheus
//!   text the data plane serves.
//! * messages.rs: HAProxy's texts.
//!
//! Entry points: [`spawn`] serves the sockets and returns an [`ApiHandle`]
//! (`set_program` after a reload, `stop`); the data plane's stats page and
//! Prometheus service call [`format::stat_csv`], [`format::stats_html`] and
//! [`format::prometheus()`].

pub mod command;
pub mod exec;
pub mod format;
pub mod messages;
pub mod socket;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use crate::compile::program::Program;
use crate::stats::{PipeCounts, Streams};
use crate::stick::Tables;

/// What every command reads: the program, its tables and process facts.
pub struct Ctx {
    pub program: Arc<Program>,
    pub tables: Arc<Tables>,
    /// Wall-clock start of the process, in seconds since the epoch.
    pub start_unix_s: u64,
    /// Connections accepted on the stats sockets so far.
    pub cli_conns: Arc<AtomicU64>,
    /// The data plane's pipes for splicing, once it runs (`show info`).
    pub pipes: Option<Arc<PipeCounts>>,
    /// The data plane's live streams, once it runs (`show sess`).
    pub streams: Option<Arc<Streams>>,
}

/// The context commands run against, replaced on reload: each command
/// takes the current one, so a reload never changes the program under a
/// running command.
pub struct Live {
    current: RwLock<Arc<Ctx>>,
}

impl Live {
    pub fn new(ctx: Ctx) -> Live {
        Live {
            current: RwLock::new(Arc::new(ctx)),
        }
    }

    /// The context now.
    pub fn get(&self) -> Arc<Ctx> {
        Arc::clone(&self.current.read())
    }

    /// Installs a reloaded program and its tables; process facts carry over.
    pub fn replace(&self, program: Arc<Program>, tables: Arc<Tables>) {
        let mut cur = self.current.write();
        let next = Ctx {
            program,
            tables,
            start_unix_s: cur.start_unix_s,
            cli_conns: Arc::clone(&cur.cli_conns),
            pipes: cur.pipes.clone(),
            streams: cur.streams.clone(),
        };
        *cur = Arc::new(next);
    }

    /// Attaches the data plane's pipe budget once it runs.
    pub fn set_pipes(&self, pipes: Option<Arc<PipeCounts>>) {
        let mut cur = self.current.write();
        let next = Ctx {
            program: Arc::clone(&cur.program),
            tables: Arc::clone(&cur.tables),
            start_unix_s: cur.start_unix_s,
            cli_conns: Arc::clone(&cur.cli_conns),
            pipes,
            streams: cur.streams.clone(),
        };
        *cur = Arc::new(next);
    }

    /// Attaches the data plane's stream registries once it runs.
    pub fn set_streams(&self, streams: Arc<Streams>) {
        let mut cur = self.current.write();
        let next = Ctx {
            program: Arc::clone(&cur.program),
            tables: Arc::clone(&cur.tables),
            start_unix_s: cur.start_unix_s,
            cli_conns: Arc::clone(&cur.cli_conns),
            pipes: cur.pipes.clone(),
            streams: Some(streams),
        };
        *cur = Arc::new(next);
    }
}

impl Ctx {
    pub fn new(program: Arc<Program>, tables: Arc<Tables>) -> Ctx {
        let up = crate::clock::process_start().elapsed();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ctx {
            program,
            tables,
            start_unix_s: now.saturating_sub(up).as_secs(),
            cli_conns: Arc::new(AtomicU64::new(0)),
            pipes: None,
            streams: None,
        }
    }

    /// Seconds since the process started.
    pub fn uptime_s(&self) -> u64 {
        crate::clock::process_start().elapsed().as_secs()
    }
}

/// Why the API could not start.
#[derive(Debug)]
pub enum ApiError {
    /// A socket could not be bound, given its mode or moved into place.
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The API thread could not be started.
    Thread(std::io::Error),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Bind { path, source } => {
                write!(f, "cannot bind stats socket '{}': {source}", path.display())
            }
            ApiError::Thread(e) => write!(f, "cannot start the runtime API thread: {e}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// The running API. Dropping it stops the thread and removes the socket
/// files.
pub struct ApiHandle {
    thread: Option<JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    paths: Vec<PathBuf>,
    live: Arc<Live>,
}

impl ApiHandle {
    /// The socket files being served.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The current context (for the stats page and Prometheus callbacks).
    pub fn ctx(&self) -> Arc<Ctx> {
        self.live.get()
    }

    /// After a reload: later commands see the new program and tables. The
    /// stats sockets themselves stay as they were bound.
    pub fn set_program(&self, program: Arc<Program>, tables: Arc<Tables>) {
        self.live.replace(program, tables);
    }

    /// Lets `show info` report the data plane's pipes.
    pub fn set_pipes(&self, pipes: Option<Arc<PipeCounts>>) {
        self.live.set_pipes(pipes);
    }

    /// Lets `show sess` list the data plane's streams.
    pub fn set_streams(&self, streams: Arc<Streams>) {
        self.live.set_streams(streams);
    }

    /// Stops serving, waits for the thread and removes the socket files.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.send_replace(true);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the runtime API thread panicked");
        }
        for p in &self.paths {
            if let Err(e) = std::fs::remove_file(p) {
                tracing::debug!("removing {}: {e}", p.display());
            }
        }
        self.paths.clear();
    }
}

impl Drop for ApiHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds every `stats socket` of the program (replacing stale socket files,
/// applying the configured mode) and serves them on a thread of its own.
pub fn spawn(program: Arc<Program>, tables: Arc<Tables>) -> Result<ApiHandle, ApiError> {
    let mut bound = Vec::new();
    for sock in &program.global.stats_sockets {
        bound.push(socket::bind(sock)?);
    }
    let paths = bound.iter().map(|b| b.path.clone()).collect();
    let live = Arc::new(Live::new(Ctx::new(program, tables)));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let thread_live = Arc::clone(&live);
    let thread = std::thread::Builder::new()
        .name("lbd-api".into())
        .spawn(move || socket::serve(thread_live, bound, stop_rx))
        .map_err(ApiError::Thread)?;
    Ok(ApiHandle {
        thread: Some(thread),
        stop,
        paths,
        live,
    })
}
