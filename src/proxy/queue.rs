//! Per-server connection slots (`maxconn` on a server) and the backend queue
//! where requests wait when every usable server is full (`timeout queue`).
//!
//! A slot is claimed with a compare-and-swap on the server's live
//! `cur_conns`, so the limit holds across workers without a lock. Releasing a
//! slot wakes one waiter of the backend queue (FIFO).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::balance::{Balancer, Pick, PickCtx};
use super::error::ProxyError;
use crate::compile::program::{Proxy, Server};
use crate::stats::{Counters, ServerState};

/// Waiters of one backend.
#[derive(Debug, Default)]
pub struct Queue {
    notify: Notify,
    waiting: AtomicU32,
}

impl Queue {
    /// Requests waiting now (`qcur`).
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Wakes one waiter, e.g. when a server comes back up.
    pub fn wake_one(&self) {
        self.notify.notify_one();
    }
}

/// One claimed connection slot on a server; released on drop.
#[derive(Debug)]
pub struct ServerSlot {
    state: Arc<ServerState>,
    queue: Arc<Queue>,
    pub server: u32,
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        self.state.conn_closed();
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.queue.waiting.load(Ordering::SeqCst) > 0 {
            self.queue.notify.notify_one();
        }
    }
}

/// Claims a slot on `server` if it is below its `maxconn`.
fn try_claim(server: &Server) -> bool {
    let st = &server.state;
    if server.maxconn == 0 {
        st.conn_opened();
        return true;
    }
    let max = server.maxconn;
    match st
        .cur_conns
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
            (c < max).then_some(c + 1)
        }) {
        Ok(prev) => {
            st.max_conns.fetch_max(prev + 1, Ordering::Relaxed);
            true
        }
        Err(_) => false,
    }
}

/// Picks a server of `backend` and claims a slot on it, waiting in the
/// backend queue up to `queue_ms` when every usable server is full.
/// `position` is set, when the request waits, to its place in the queue
/// (1 = first), which the log reports as `backend_queue`.
pub async fn acquire(
    backend: &Proxy,
    balancer: &Balancer,
    queue: &Arc<Queue>,
    ctx: &PickCtx<'_>,
    avoid: Option<u32>,
    queue_ms: Option<u64>,
    position: &mut u32,
) -> Result<ServerSlot, ProxyError> {
    let deadline = queue_ms.map(|ms| tokio::time::Instant::now() + Duration::from_millis(ms));
    // A request served from the queue does not count as a balancer pick
    // (`lbtot`), as HAProxy's dequeued requests do not.
    let mut waited = false;
    loop {
        // Fast path: a free slot, without touching the queue's waiter list
        // (whose lock is shared by every worker).
        if let Some(slot) = try_acquire(backend, balancer, queue, ctx, avoid, !waited)? {
            return Ok(slot);
        }
        let notified = queue.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let ahead = queue.waiting.fetch_add(1, Ordering::SeqCst);
        if *position == 0 {
            *position = ahead + 1;
        }
        // Pairs with the fence in `ServerSlot::drop`: either the releaser
        // sees this waiter and wakes it, or the pick below sees the slot.
        std::sync::atomic::fence(Ordering::SeqCst);
        let woke = match try_acquire(backend, balancer, queue, ctx, avoid, !waited) {
            Ok(Some(slot)) => {
                queue.waiting.fetch_sub(1, Ordering::SeqCst);
                return Ok(slot);
            }
            Err(e) => {
                queue.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(e);
            }
            Ok(None) => match deadline {
                Some(d) => tokio::time::timeout_at(d, notified).await.is_ok(),
                None => {
                    notified.await;
                    true
                }
            },
        };
        queue.waiting.fetch_sub(1, Ordering::SeqCst);
        if !woke {
            return Err(ProxyError::QueueTimeout);
        }
        waited = true;
    }
}

/// One pick and claim: `Ok(None)` when every usable server is full.
/// `count_pick`: a claim counts in the server's `lbtot`.
fn try_acquire(
    backend: &Proxy,
    balancer: &Balancer,
    queue: &Arc<Queue>,
    ctx: &PickCtx<'_>,
    avoid: Option<u32>,
    count_pick: bool,
) -> Result<Option<ServerSlot>, ProxyError> {
    // Bounded: a lost race between pick and claim makes the server read as
    // full on the next pick, so this ends after at most one round per server.
    for _ in 0..=backend.servers.len() {
        match balancer.pick(&backend.servers, ctx, avoid) {
            Pick::Server(i) => {
                let server = &backend.servers[i as usize];
                if try_claim(server) {
                    if count_pick {
                        Counters::inc(&server.state.counters.lb_total);
                    }
                    return Ok(Some(ServerSlot {
                        state: Arc::clone(&server.state),
                        queue: Arc::clone(queue),
                        server: i,
                    }));
                }
            }
            Pick::NoneUsable => return Err(ProxyError::NoServer),
            Pick::AllFull => return Ok(None),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::Mode;
    use crate::proxy::testutil;
    use std::net::{IpAddr, Ipv4Addr};

    fn ctx() -> PickCtx<'static> {
        PickCtx {
            client: IpAddr::V4(Ipv4Addr::LOCALHOST),
            request: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_a_slot_then_times_out() {
        let mut servers = testutil::servers(&[(testutil::free_addr(), 1)]);
        servers[0].maxconn = 1;
        let be = testutil::listen(0, Mode::Tcp, None, servers);
        let bal = Balancer::new(&be);
        let q = Arc::new(Queue::default());
        let first = acquire(&be, &bal, &q, &ctx(), None, Some(100), &mut 0).await;
        let Ok(first) = first else {
            panic!("first slot refused")
        };
        assert_eq!(be.servers[0].state.cur_conns.load(Ordering::Relaxed), 1);
        // Full: the second waits and times out.
        let second = acquire(&be, &bal, &q, &ctx(), None, Some(100), &mut 0).await;
        assert_eq!(second.err(), Some(ProxyError::QueueTimeout));
        // A release wakes a waiter.
        let c = ctx();
        let mut position = 0;
        let waiter = acquire(&be, &bal, &q, &c, None, Some(10_000), &mut position);
        let release = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(first);
        };
        let (got, ()) = tokio::join!(waiter, release);
        assert!(got.is_ok());
        assert_eq!(position, 1, "first in the queue");
        drop(got);
        assert_eq!(be.servers[0].state.cur_conns.load(Ordering::Relaxed), 0);
    }
}
