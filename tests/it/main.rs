//! The one integration-test binary: real processes, real sockets.
