//! Idle server connections kept for reuse, per worker thread: no lock is ever
//! shared between cores. A connection is only reused by the worker whose
//! runtime registered it, which is also the only one that can poll it.

use std::cell::RefCell;

use ahash::AHashMap;
use tokio::net::TcpStream;

/// At most this many idle connections per server and worker.
const MAX_IDLE_PER_SERVER: usize = 64;
/// An idle connection older than this is dropped rather than reused.
const MAX_IDLE_MS: u64 = 10_000;

type Key = (u32, u32);

#[derive(Default)]
struct Pool {
    idle: AHashMap<Key, Vec<(TcpStream, u64)>>,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// Connections idle for less than this are reused without a liveness probe
/// (a request without body that fails on one is retried on a new one).
const PROBE_AFTER_MS: u64 = 1_000;

/// Takes a live idle connection to server `server` of backend `backend`.
/// Connections the server closed (readable at EOF, or with stray bytes) are
/// dropped on the way; `probe` checks even recently used ones (one extra
/// system call), for requests that cannot be replayed.
pub fn take(backend: u32, server: u32, now_ms: u64, probe: bool) -> Option<TcpStream> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.idle.get_mut(&(backend, server))?;
        while let Some((stream, since)) = list.pop() {
            let idle = now_ms.saturating_sub(since);
            if idle > MAX_IDLE_MS {
                continue;
            }
            if !probe && idle < PROBE_AFTER_MS {
                return Some(stream);
            }
            let mut probe = [0u8; 1];
            match stream.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(stream),
                _ => continue,
            }
        }
        None
    })
}

/// Keeps a connection whose last response ended cleanly.
pub fn put(backend: u32, server: u32, stream: TcpStream, now_ms: u64) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.idle.entry((backend, server)).or_default();
        if list.len() >= MAX_IDLE_PER_SERVER {
            list.remove(0);
        }
        list.push((stream, now_ms));
    });
}

/// Idle connections this worker holds to one server (for tests and stats).
pub fn idle_count(backend: u32, server: u32) -> usize {
    POOL.with(|p| p.borrow().idle.get(&(backend, server)).map_or(0, Vec::len))
}
