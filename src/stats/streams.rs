//! The live streams of the data plane, for `show sess`: one registry per
//! worker, each behind its own lock, so that workers never share one. A
//! worker touches its registry when a stream starts (a `mode tcp`
//! connection is accepted, an HTTP request head is read), when its backend
//! and server are chosen, and when it ends; the runtime API walks every
//! registry and copies the entries out.
//!
//! An HTTP connection waiting for its next request has no stream, as in
//! HAProxy 2.6, whose idle keep-alive connections are not listed.
//!
//! `shutdown session <id>` wakes the stream's connection through its
//! [`Origin::kill`]; the session ends when it sees it.
//!
//! Proxies and servers are named by their index in the program (the API
//! resolves the names); times are the caller's milliseconds on the process
//! clock.

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

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
    /// Notified once to end the connection (`shutdown session`).
    pub kill: Arc<Notify>,
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
            out.extend(inner.slots.iter().flatten().map(|s| s.info));
        }
        out
    }

    /// The live stream `id`, if any.
    pub fn find(&self, id: u64) -> Option<StreamInfo> {
        let worker = (id & ((1 << WORKER_BITS) - 1)) as usize;
        let w = self.workers.get(worker)?;
        let inner = w.inner.lock();
        inner
            .slots
            .iter()
            .flatten()
            .find(|s| s.info.id == id)
            .map(|s| s.info)
    }

    /// Asks the connection of stream `id` to end; whether it is live.
    pub fn kill(&self, id: u64) -> bool {
        let worker = (id & ((1 << WORKER_BITS) - 1)) as usize;
        let Some(w) = self.workers.get(worker) else {
            return false;
        };
        let inner = w.inner.lock();
        match inner.slots.iter().flatten().find(|s| s.info.id == id) {
            Some(s) => {
                s.kill.notify_one();
                true
            }
            None => false,
        }
    }

    /// How many streams are live.
    pub fn len(&self) -> usize {
        self.workers
            .iter()
            .map(|w| {
                let inner = w.inner.lock();
                inner.slots.len() - inner.free.len()
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

/// One worker's live streams: a slab whose freed slots are reused, so a
/// stream costs no allocation once the slab has grown to the worker's
/// peak.
#[derive(Debug)]
pub struct Registry {
    worker: u64,
    inner: Mutex<Slab>,
}

#[derive(Debug)]
struct Slot {
    info: StreamInfo,
    kill: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Slab {
    /// Streams started by this worker so far.
    started: u64,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
}

impl Registry {
    fn new(worker: u64) -> Registry {
        Registry {
            worker,
            inner: Mutex::new(Slab::default()),
        }
    }

    /// Lists a new stream until the returned guard is dropped.
    pub fn open(&self, origin: &Origin, started_ms: u64, expires_ms: Option<u64>) -> Live<'_> {
        let mut inner = self.inner.lock();
        inner.started += 1;
        let id = (inner.started << WORKER_BITS) | self.worker;
        let info = StreamInfo {
            id,
            src: origin.src,
            frontend: origin.frontend,
            backend: None,
            server: None,
            started_ms,
            client_fd: origin.client_fd,
            server_fd: None,
            expires_ms,
        };
        let info = Slot {
            info,
            kill: Arc::clone(&origin.kill),
        };
        let slot = match inner.free.pop() {
            Some(i) => {
                inner.slots[i] = Some(info);
                i
            }
            None => {
                inner.slots.push(Some(info));
                inner.slots.len() - 1
            }
        };
        Live {
            registry: self,
            slot,
        }
    }
}

/// A listed stream; dropping it removes the entry.
#[derive(Debug)]
pub struct Live<'a> {
    registry: &'a Registry,
    slot: usize,
}

impl Live<'_> {
    fn update(&self, f: impl FnOnce(&mut StreamInfo)) {
        let mut inner = self.registry.inner.lock();
        if let Some(Some(slot)) = inner.slots.get_mut(self.slot) {
            f(&mut slot.info);
        }
    }

    /// The backend is chosen; the stream now waits for a server until
    /// `expires_ms`.
    pub fn backend_chosen(&self, backend: u32, expires_ms: Option<u64>) {
        self.update(|s| {
            s.backend = Some(backend);
            s.expires_ms = expires_ms;
        });
    }

    /// Connected to `server` of the backend over `fd`; the next timeout
    /// fires at `expires_ms`.
    pub fn server_connected(&self, server: u32, fd: i32, expires_ms: Option<u64>) {
        self.update(|s| {
            s.server = Some(server);
            s.server_fd = Some(fd);
            s.expires_ms = expires_ms;
        });
    }

    /// This stream's id.
    pub fn id(&self) -> u64 {
        let inner = self.registry.inner.lock();
        inner
            .slots
            .get(self.slot)
            .and_then(Option::as_ref)
            .map_or(0, |s| s.info.id)
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
    fn a_worker_past_the_end_shares_the_last_registry() {
        let streams = Streams::new(1);
        let s = streams.worker(5).open(&origin(1), 0, None);
        assert_eq!(streams.find(s.id()).map(|i| i.src), Some(origin(1).src));
    }
}
