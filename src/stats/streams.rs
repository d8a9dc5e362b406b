//! The live streams of the data plane, for `show sess`: one registry per
//! worker, each behind its own lock, so that workers never share one. A
//! worker locks its registry only when a client connection opens and
//! closes; what changes per request (the stream's id, start, backend,
//! server, deadline, and whether a request is in flight at all) lives in
//! the connection's own cell of atomics, so a kept-alive connection's
//! requests take no lock. The runtime API walks every registry and reads
//! the cells.
//!
//! An HTTP connection waiting for its next request has no stream, as in
//! HAProxy 2.6, whose idle keep-alive connections are not listed.
//!
//! `shutdown session <id>` aborts the connection's task through its
//! [`Origin::kill`] (dropping the session where it stands, like HAProxy's
//! kill), which costs the session nothing while it runs.
//!
//! Proxies and servers are named by their index in the program (the API
//! resolves the names); times are the caller's milliseconds on the process
//! clock.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::task::AbortHandle;

/// The handle that ends a connection's task, set by whoever spawned it.
pub type KillSwitch = Arc<OnceLock<AbortHandle>>;

/// How many bits of a stream id name its worker.
const WORKER_BITS: u32 = 8;

/// The low bits of the runtime API's own stream ids: no worker has them.
pub const CLI_WORKER: u64 = (1 << WORKER_BITS) - 1;

/// The id `show sess` gives the runtime API's connection number `n`.
pub fn cli_stream_id(n: u64) -> u64 {
    (n << WORKER_BITS) | CLI_WORKER
}

/// What `show sess` tells about one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// Unique in the process for its whole life: the worker in the low
    /// bits, that worker's stream count above.
    pub id: u64,
    /// The client's address (after a PROXY header, the one it names).
    pub src: SocketAddr,
    /// The frontend's index in the program.
    pub frontend: u32,
    /// The backend's index, once chosen.
    pub backend: Option<u32>,
    /// The server's index within the backend, once chosen.
    pub server: Option<u32>,
    /// When the stream started (the accept, or for a later request of an
    /// HTTP connection the end of the previous one).
    pub started_ms: u64,
    /// The client socket's file descriptor.
    pub client_fd: i32,
    /// The server socket's file descriptor, once connected.
    pub server_fd: Option<i32>,
    /// When the timeout of the current phase fires, if one is set. The
    /// phases are: before a backend is chosen (`timeout client`), waiting
    /// for a server (`timeout queue`), then `timeout server` (HTTP) or the
    /// tunnel's idle timeout counted from the connect (`mode tcp`: traffic
    /// in the tunnel pushes the real deadline further than this one).
    pub expires_ms: Option<u64>,
}

/// Who a stream is, known when it starts: the same for every stream of a
/// client connection.
#[derive(Debug, Clone)]
pub struct Origin {
    pub src: SocketAddr,
    pub frontend: u32,
    pub client_fd: i32,
    /// Ends the connection (`shutdown session`).
    pub kill: KillSwitch,
}

/// Every worker's registry.
#[derive(Debug)]
pub struct Streams {
    workers: Box<[Registry]>,
}

impl Streams {
    /// Registries for `workers` workers (at least one).
    pub fn new(workers: usize) -> Streams {
        // The last worker number is the runtime API's own (`CLI_WORKER`).
        let n = workers.clamp(1, CLI_WORKER as usize);
        Streams {
            workers: (0..n).map(|i| Registry::new(i as u64)).collect(),
        }
    }

    /// The registry of worker `index` (the last one past the end).
    pub fn worker(&self, index: usize) -> &Registry {
        &self.workers[index.min(self.workers.len() - 1)]
    }

    /// Every live stream, worker by worker, oldest slot first.
    pub fn snapshot(&self) -> Vec<StreamInfo> {
        let mut out = Vec::new();
        for w in self.workers.iter() {
            let inner = w.inner.lock();
            out.extend(inner.slots.iter().flatten().filter_map(|c| c.info()));
        }
        out
    }

    /// The live stream `id`, if any.
    pub fn find(&self, id: u64) -> Option<StreamInfo> {
        self.with_cell(id, |c| c.info()).flatten()
    }

    /// Asks the connection of stream `id` to end; whether it is live.
    pub fn kill(&self, id: u64) -> bool {
        self.with_cell(id, |c| {
            if let Some(task) = c.kill.get() {
                task.abort();
            }
        })
        .is_some()
    }

    /// Runs `f` on the cell whose current stream is `id`.
    fn with_cell<T>(&self, id: u64, f: impl FnOnce(&Cell) -> T) -> Option<T> {
        let worker = (id & ((1 << WORKER_BITS) - 1)) as usize;
        let w = self.workers.get(worker)?;
        let inner = w.inner.lock();
        let cell = inner
            .slots
            .iter()
            .flatten()
            .find(|c| c.active.load(Ordering::Relaxed) && c.id.load(Ordering::Relaxed) == id)?;
        Some(f(cell))
    }

    /// How many streams are live.
    pub fn len(&self) -> usize {
        self.workers
            .iter()
            .map(|w| {
                let inner = w.inner.lock();
                let active = |c: &&Arc<Cell>| c.active.load(Ordering::Relaxed);
                inner.slots.iter().flatten().filter(active).count()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Streams {
    fn default() -> Streams {
        Streams::new(1)
    }
}

/// One worker's client connections: a slab whose freed slots are reused,
/// so a connection costs no slab growth once it has reached the worker's
/// peak.
#[derive(Debug)]
pub struct Registry {
    worker: u64,
    /// Streams started by this worker so far (ids).
    started: AtomicU64,
    inner: Mutex<Slab>,
}

/// One client connection and its current stream.
#[derive(Debug)]
struct Cell {
    src: SocketAddr,
    frontend: u32,
    client_fd: i32,
    kill: KillSwitch,
    /// A stream is in flight (always, for a `mode tcp` connection).
    active: AtomicBool,
    id: AtomicU64,
    started_ms: AtomicU64,
    /// `NONE_U32` until chosen.
    backend: AtomicU32,
    server: AtomicU32,
    /// `NONE_FD` until connected.
    server_fd: AtomicI32,
    /// `NONE_U64` when no timeout is set.
    expires_ms: AtomicU64,
}

const NONE_U32: u32 = u32::MAX;
const NONE_FD: i32 = i32::MIN;
const NONE_U64: u64 = u64::MAX;

fn some_u32(v: u32) -> Option<u32> {
    (v != NONE_U32).then_some(v)
}

impl Cell {
    /// The stream in flight, if any.
    fn info(&self) -> Option<StreamInfo> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        let fd = self.server_fd.load(Ordering::Relaxed);
        let expires = self.expires_ms.load(Ordering::Relaxed);
        Some(StreamInfo {
            id: self.id.load(Ordering::Relaxed),
            src: self.src,
            frontend: self.frontend,
            backend: some_u32(self.backend.load(Ordering::Relaxed)),
            server: some_u32(self.server.load(Ordering::Relaxed)),
            started_ms: self.started_ms.load(Ordering::Relaxed),
            client_fd: self.client_fd,
            server_fd: (fd != NONE_FD).then_some(fd),
            expires_ms: (expires != NONE_U64).then_some(expires),
        })
    }
}

#[derive(Debug, Default)]
struct Slab {
    slots: Vec<Option<Arc<Cell>>>,
    free: Vec<usize>,
}

impl Registry {
    fn new(worker: u64) -> Registry {
        Registry {
            worker,
            started: AtomicU64::new(0),
            inner: Mutex::new(Slab::default()),
        }
    }

    /// Lists a connection whose stream starts now (`mode tcp`) until the
    /// returned guard is dropped.
    pub fn open(&self, origin: &Origin, started_ms: u64, expires_ms: Option<u64>) -> Live<'_> {
        let live = self.open_idle(origin);
        live.start(started_ms, expires_ms);
        live
    }

    /// Lists a connection with no stream yet (HTTP: one per request, see
    /// [`Live::start`] and [`Live::finish`]).
    pub fn open_idle(&self, origin: &Origin) -> Live<'_> {
        let cell = Arc::new(Cell {
            src: origin.src,
            frontend: origin.frontend,
            client_fd: origin.client_fd,
            kill: Arc::clone(&origin.kill),
            active: AtomicBool::new(false),
            id: AtomicU64::new(0),
            started_ms: AtomicU64::new(0),
            backend: AtomicU32::new(NONE_U32),
            server: AtomicU32::new(NONE_U32),
            server_fd: AtomicI32::new(NONE_FD),
            expires_ms: AtomicU64::new(NONE_U64),
        });
        let mut inner = self.inner.lock();
        let slot = match inner.free.pop() {
            Some(i) => {
                inner.slots[i] = Some(Arc::clone(&cell));
                i
            }
            None => {
                inner.slots.push(Some(Arc::clone(&cell)));
                inner.slots.len() - 1
            }
        };
        Live {
            registry: self,
            slot,
            cell,
        }
    }
}

/// A listed connection; dropping it removes the entry.
#[derive(Debug)]
pub struct Live<'a> {
    registry: &'a Registry,
    slot: usize,
    cell: Arc<Cell>,
}

fn opt_u64(v: Option<u64>) -> u64 {
    v.unwrap_or(NONE_U64)
}

impl Live<'_> {
    /// A new stream starts on this connection: a new id, no backend or
    /// server yet, the first timeout at `expires_ms`.
    pub fn start(&self, started_ms: u64, expires_ms: Option<u64>) {
        let c = &self.cell;
        let n = self.registry.started.fetch_add(1, Ordering::Relaxed) + 1;
        c.id.store((n << WORKER_BITS) | self.registry.worker, Ordering::Relaxed);
        c.started_ms.store(started_ms, Ordering::Relaxed);
        c.backend.store(NONE_U32, Ordering::Relaxed);
        c.server.store(NONE_U32, Ordering::Relaxed);
        c.server_fd.store(NONE_FD, Ordering::Relaxed);
        c.expires_ms.store(opt_u64(expires_ms), Ordering::Relaxed);
        c.active.store(true, Ordering::Relaxed);
    }

    /// The stream ended; the connection stays listed without one.
    pub fn finish(&self) {
        self.cell.active.store(false, Ordering::Relaxed);
    }

    /// The backend is chosen; the stream now waits for a server until
    /// `expires_ms`.
    pub fn backend_chosen(&self, backend: u32, expires_ms: Option<u64>) {
        let c = &self.cell;
        c.backend.store(backend, Ordering::Relaxed);
        c.expires_ms.store(opt_u64(expires_ms), Ordering::Relaxed);
    }

    /// Connected to `server` of the backend over `fd`; the next timeout
    /// fires at `expires_ms`.
    pub fn server_connected(&self, server: u32, fd: i32, expires_ms: Option<u64>) {
        let c = &self.cell;
        c.server.store(server, Ordering::Relaxed);
        c.server_fd.store(fd, Ordering::Relaxed);
        c.expires_ms.store(opt_u64(expires_ms), Ordering::Relaxed);
    }

    /// The current stream's id.
    pub fn id(&self) -> u64 {
        self.cell.id.load(Ordering::Relaxed)
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        let mut inner = self.registry.inner.lock();
        if let Some(slot) = inner.slots.get_mut(self.slot) {
            *slot = None;
            inner.free.push(self.slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(port: u16) -> Origin {
        Origin {
            src: SocketAddr::from(([127, 0, 0, 1], port)),
            frontend: 2,
            client_fd: 9,
            kill: Arc::default(),
        }
    }

    #[test]
    fn streams_are_listed_while_alive_and_slots_are_reused() {
        let streams = Streams::new(2);
        let a = streams.worker(0).open(&origin(1), 10, Some(100));
        let b = streams.worker(1).open(&origin(2), 20, None);
        assert_eq!(streams.len(), 2);
        let (ia, ib) = (a.id(), b.id());
        assert_ne!(ia, ib);
        b.backend_chosen(3, Some(50));
        b.server_connected(1, 12, Some(60));
        let found = streams.find(ib).expect("b is live");
        assert_eq!(
            (
                found.backend,
                found.server,
                found.server_fd,
                found.expires_ms
            ),
            (Some(3), Some(1), Some(12), Some(60))
        );
        drop(a);
        assert_eq!(streams.find(ia), None);
        assert_eq!(streams.snapshot().len(), 1);
        let c = streams.worker(0).open(&origin(3), 30, None);
        // The slot is reused, the id is not.
        assert_ne!(c.id(), ia);
        assert_eq!(streams.worker(0).inner.lock().slots.len(), 1);
        assert!(streams.kill(c.id()));
        assert!(!streams.kill(ia));
        drop((b, c));
        assert!(streams.is_empty());
    }

    #[test]
    fn an_idle_connection_lists_a_stream_only_while_one_is_in_flight() {
        let streams = Streams::new(1);
        let conn = streams.worker(0).open_idle(&origin(7));
        assert!(streams.snapshot().is_empty());
        conn.start(5, Some(9));
        conn.backend_chosen(1, None);
        conn.server_connected(0, 20, Some(30));
        let first = conn.id();
        assert_eq!(streams.find(first).and_then(|s| s.server_fd), Some(20));
        conn.finish();
        assert!(streams.snapshot().is_empty());
        assert!(!streams.kill(first));
        // The next request is a new stream: new id, nothing chosen yet.
        conn.start(6, None);
        let next = streams.find(conn.id()).expect("in flight");
        assert_ne!(next.id, first);
        assert_eq!(
            (next.backend, next.server, next.expires_ms),
            (None, None, None)
        );
    }

    #[test]
    fn a_worker_past_the_end_shares_the_last_registry() {
        let streams = Streams::new(1);
        let s = streams.worker(5).open(&origin(1), 0, None);
        assert_eq!(streams.find(s.id()).map(|i| i.src), Some(origin(1).src));
    }
}
