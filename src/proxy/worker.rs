//! Worker threads: each runs its own current-thread tokio runtime with its
//! own listening sockets, accepts while the global and frontend `maxconn`
//! allow, and serves every accepted connection to its end on that thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};

use super::listener::Listener;
use super::session::{self, Listing};
use super::shared::{Shared, Stop};
use crate::stats::streams::KillSwitch;

/// Starts worker `index` on its listeners.
pub fn spawn(
    index: usize,
    listeners: Vec<Listener>,
    shared: Arc<Shared>,
) -> std::io::Result<JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("lbd-worker-{index}"))
        .spawn(move || runtime.block_on(run(index, listeners, shared)))
}

/// Live sessions of this worker, to wait for on a graceful stop.
#[derive(Default)]
struct Tracker {
    live: AtomicUsize,
    idle: Notify,
}

struct Live(Arc<Tracker>);

impl Drop for Live {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

async fn run(index: usize, listeners: Vec<Listener>, shared: Arc<Shared>) {
    let tracker = Arc::new(Tracker::default());
    let mut stop = shared.stop.subscribe();
    for l in listeners {
        match TcpListener::from_std(l.socket) {
            Ok(socket) => {
                tokio::spawn(accept_loop(
                    index,
                    l.accept_proxy,
                    socket,
                    l.proxy,
                    l.tls,
                    Arc::clone(&shared),
                    Arc::clone(&tracker),
                ));
            }
            Err(e) => tracing::error!(addr = %l.addr, "cannot register listener: {e}"),
        }
    }
    let how = wait_stop(&mut stop).await;
    if how == Stop::Graceful {
        let hard = shared.program.global.hard_stop_after_ms;
        let drained = async {
            loop {
                let idle = tracker.idle.notified();
                if tracker.live.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let bounded = async {
            match hard {
                Some(ms) => {
                    if tokio::time::timeout(Duration::from_millis(ms), drained)
                        .await
                        .is_err()
                    {
                        tracing::warn!("hard-stop-after expired: closing remaining sessions");
                    }
                }
                None => drained.await,
            }
        };
        tokio::select! {
            () = bounded => {}
            _ = wait_now(&mut stop) => {}
        }
    }
    // Returning drops the runtime with every session still on it.
}

async fn wait_stop(stop: &mut watch::Receiver<Stop>) -> Stop {
    loop {
        let cur = *stop.borrow_and_update();
        if cur != Stop::Running {
            return cur;
        }
        if stop.changed().await.is_err() {
            return Stop::Now;
        }
    }
}

async fn wait_now(stop: &mut watch::Receiver<Stop>) {
    while *stop.borrow_and_update() != Stop::Now {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Accepts on one socket until a stop is asked; the socket closes when this
/// returns. At `maxconn` an accepted connection waits for a slot before it is
/// read (at most one per socket and worker), and no more are accepted
/// meanwhile: the kernel queues the next clients, as HAProxy does when it
/// stops accepting. Taking the slot before `accept` would let one worker
/// hold it while the kernel hands the connection to another.
async fn accept_loop(
    worker: usize,
    accept_proxy: bool,
    socket: TcpListener,
    proxy: super::ProxyId,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<Shared>,
    tracker: Arc<Tracker>,
) {
    let mut stop = shared.stop.subscribe();
    loop {
        let accepted = tokio::select! {
            r = socket.accept() => r,
            _ = wait_stop(&mut stop) => return,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors or similar: back off instead of
                // spinning on the error.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let permits = tokio::select! {
            p = permits(&shared, proxy) => p,
            _ = wait_stop(&mut stop) => return,
        };
        let Some(permits) = permits else { return };
        tracker.live.fetch_add(1, Ordering::AcqRel);
        let live = Live(Arc::clone(&tracker));
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        let kill = KillSwitch::default();
        let listing = Listing {
            worker,
            kill: Arc::clone(&kill),
        };
        let task = tokio::spawn(async move {
            session::run(stream, peer, proxy, tls, shared, accept_proxy, listing).await;
            drop(permits);
            drop(live);
        });
        // `shutdown session` aborts the task: nothing polls for it meanwhile.
        let _ = kill.set(task.abort_handle());
    }
}

/// One global and (if set) one frontend connection permit.
async fn permits(
    shared: &Shared,
    proxy: super::ProxyId,
) -> Option<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>)> {
    let global = Arc::clone(&shared.global_conns)
        .acquire_owned()
        .await
        .ok()?;
    let frontend = match &shared.frontend_conns[proxy.0 as usize] {
        Some(sem) => Some(Arc::clone(sem).acquire_owned().await.ok()?),
        None => None,
    };
    Some((global, frontend))
}
