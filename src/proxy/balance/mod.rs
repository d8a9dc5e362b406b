//! Server selection: one `Balancer` per backend, shared by every worker.
//!
//! The algorithms are HAProxy's `balance` keywords. Every pick reads the live
//! server state (weight, admin, health, current connections) so a change made
//! by a health check or the runtime API applies to the very next pick.
//! Backup servers are only considered when no active server is usable, and
//! then only the first usable one (HAProxy without `option allbackups`).

mod hash;
mod leastconn;
mod map;
mod random;
mod ring;
mod rr;

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use parking_lot::Mutex;

use crate::compile::program::{Balance, HashMethod, HashType, Proxy, Server};
use crate::rules::message::RequestHead;

pub use hash::sdbm;

/// What a pick may look at besides the servers.
#[derive(Debug, Clone, Copy)]
pub struct PickCtx<'a> {
    pub client: IpAddr,
    /// The request, in `mode http`; hash algorithms on URI or headers need it.
    pub request: Option<&'a RequestHead>,
}

/// The outcome of a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Index of the chosen server in the backend's `servers`.
    Server(u32),
    /// Servers are usable but every one is at its `maxconn`: queue.
    AllFull,
    /// No server is usable (all down, in maintenance or weight 0): 503.
    NoneUsable,
}

/// Selection state of one backend.
#[derive(Debug)]
pub struct Balancer {
    algo: Balance,
    hash_type: HashType,
    /// Smooth weighted round robin state (`roundrobin`, and the fallback of
    /// the hash algorithms when their key is missing). The lock is held for a
    /// few hundred nanoseconds, never across an await.
    rr: Mutex<rr::SmoothRr>,
    /// `static-rr` state, driven by the configured weights.
    static_rr: Mutex<rr::SmoothRr>,
    /// Rotating start for ties in `leastconn`.
    cursor: std::sync::atomic::AtomicUsize,
    /// The weighted map of the hash algorithms, rebuilt when a server's
    /// state or weight changes; held for the length of a pick.
    map: Mutex<map::WeightMap>,
    /// The ring of `hash-type consistent`, rebuilt likewise.
    ring: Mutex<ring::Ring>,
}

impl Balancer {
    pub fn new(backend: &Proxy) -> Balancer {
        let n = backend.servers.len();
        Balancer {
            algo: backend.balance.clone(),
            hash_type: backend.hash_type,
            rr: Mutex::new(rr::SmoothRr::new(n)),
            static_rr: Mutex::new(rr::SmoothRr::new(n)),
            cursor: std::sync::atomic::AtomicUsize::new(0),
            map: Mutex::new(map::WeightMap::default()),
            ring: Mutex::new(ring::Ring::default()),
        }
    }

    /// Chooses a server for a new connection or request. `avoid` names a
    /// server that just failed (redispatch): it is skipped unless it is the
    /// only candidate.
    pub fn pick(&self, servers: &[Server], ctx: &PickCtx<'_>, avoid: Option<u32>) -> Pick {
        let Some(mut cands) = Candidates::new(servers, avoid) else {
            return Pick::NoneUsable;
        };
        if !cands.any() {
            if avoid.is_none() {
                return Pick::AllFull;
            }
            cands.avoid = None;
            if !cands.any() {
                return Pick::AllFull;
            }
        }
        let chosen = match &self.algo {
            Balance::RoundRobin => self.rr.lock().next(&cands, live_weight),
            Balance::StaticRr => self.static_rr.lock().next(&cands, static_weight),
            Balance::LeastConn => leastconn::pick(&cands, &self.cursor),
            Balance::First => leastconn::first(&cands),
            Balance::Random { draws } => random::pick(&cands, *draws),
            Balance::Source => {
                let h = hash::finish(self.hash_type, hash::source(ctx.client));
                self.by_hash(Some(h), &cands)
            }
            Balance::Uri { whole, len, depth } => {
                let key = ctx.request.map(|r| hash::uri_key(r, *whole, *len, *depth));
                self.by_hash(key.map(|k| hash::key(self.hash_type, k)), &cands)
            }
            Balance::UrlParam { name } => {
                let key = ctx
                    .request
                    .and_then(|r| hash::url_param(r, name.as_bytes()));
                self.by_hash(key.map(|k| hash::key(self.hash_type, k)), &cands)
            }
            Balance::Hdr {
                name,
                use_domain_only,
            } => {
                let key = ctx
                    .request
                    .and_then(|r| r.headers.first(name.as_bytes()))
                    .and_then(|v| hash::hdr_key(v, *use_domain_only));
                self.by_hash(key.map(|k| hash::key(self.hash_type, k)), &cands)
            }
        };
        match chosen {
            Some(i) => Pick::Server(i),
            None => Pick::AllFull,
        }
    }

    /// A hash algorithm's pick: the map slot (or, `hash-type consistent`,
    /// the ring point) the hash designates, or, when the request has no
    /// key, the next one in order (HAProxy falls back to round robin).
    fn by_hash(&self, hash: Option<u32>, cands: &Candidates<'_>) -> Option<u32> {
        if self.hash_type.method == HashMethod::Consistent {
            let mut ring = self.ring.lock();
            return match hash {
                Some(h) => ring.by_hash(h, cands),
                None => ring.next(cands),
            };
        }
        let mut map = self.map.lock();
        match hash {
            Some(h) => map.by_hash(h, cands),
            None => map.next(cands),
        }
    }
}

/// Whether a server has reached its `maxconn`.
pub fn is_full(server: &Server) -> bool {
    server.maxconn > 0 && server.state.cur_conns.load(Ordering::Relaxed) >= server.maxconn
}

fn live_weight(s: &Server) -> u32 {
    s.state.weight()
}

fn static_weight(s: &Server) -> u32 {
    s.weight.max(1)
}

/// The servers a pick may choose from: the usable active servers, or else
/// the first usable backup; minus full servers and the avoided one.
pub struct Candidates<'a> {
    pub servers: &'a [Server],
    backup_only: Option<u32>,
    avoid: Option<u32>,
}

impl<'a> Candidates<'a> {
    fn new(servers: &'a [Server], avoid: Option<u32>) -> Option<Candidates<'a>> {
        let any_active = servers.iter().any(|s| !s.backup && s.state.is_usable());
        let backup_only = if any_active {
            None
        } else {
            Some(
                servers
                    .iter()
                    .position(|s| s.backup && s.state.is_usable())? as u32,
            )
        };
        Some(Candidates {
            servers,
            backup_only,
            avoid,
        })
    }

    /// Whether server `i` belongs to the group picks are made from (the
    /// usable active servers, or the first usable backup), busy or not.
    pub fn in_group(&self, i: usize) -> bool {
        match self.backup_only {
            Some(b) => i == b as usize,
            None => !self.servers[i].backup && self.servers[i].state.is_usable(),
        }
    }

    /// Whether server `i` may be chosen now.
    pub fn ok(&self, i: usize) -> bool {
        self.in_group(i) && self.avoid != Some(i as u32) && !is_full(&self.servers[i])
    }

    fn any(&self) -> bool {
        (0..self.servers.len()).any(|i| self.ok(i))
    }

    /// Indices of the servers that may be chosen, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.servers.len()).filter(|&i| self.ok(i))
    }
}

#[cfg(test)]
mod hash_tests;
#[cfg(test)]
mod tests;
