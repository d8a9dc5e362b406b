//! Live numbers shared by every worker and read by the runtime API: traffic
//! counters and server state, atomics only; and the live streams, one
//! lock per worker (`streams`). This module depends on nothing.

pub mod capture;
pub mod counters;
pub mod names;
pub mod pipes;
pub mod rate;
pub mod server;
pub mod streams;
pub mod timing;

pub use capture::{CaptureKind, ErrorCapture};
pub use counters::Counters;
pub use pipes::PipeCounts;
pub use rate::PerSecond;
pub use server::{AdminState, CheckResult, CheckStatus, OpState, ServerState};
pub use streams::{Origin, StreamInfo, Streams};
pub use timing::{Phases, TimeStats};
