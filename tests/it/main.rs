//! The one integration-test binary: real processes, real sockets.

mod check;
mod harness;
mod layering;
mod readme;
mod tls;
