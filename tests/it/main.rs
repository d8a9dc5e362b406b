//! The one integration-test binary: real processes, real sockets.

mod api;
mod check;
mod harness;
mod layering;
mod readme;
