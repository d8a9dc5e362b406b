//! The one integration-test binary: real processes, real sockets.

mod api;
mod balance;
mod check;
mod harness;
mod http;
mod layering;
mod logs;
mod readme;
mod servers;
mod stick;
mod tls;
mod tunnel;
mod vs_haproxy_hash;
mod vs_haproxy_stick;
mod vs_haproxy_timings;
