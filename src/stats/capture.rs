//! The last faulty request or response a proxy saw, kept for `show errors`.
//! The data plane records one when it rejects a message it cannot parse.

use std::net::SocketAddr;

/// Which direction a capture is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    Request,
    Response,
}

/// One captured message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCapture {
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub when_unix_ms: u64,
    pub kind: CaptureKind,
    /// The client's address.
    pub src: Option<SocketAddr>,
    /// The other side: for a request the backend (name, uuid) if one was
    /// chosen; for a response the frontend.
    pub peer_proxy: Option<(String, u32)>,
    /// The server (name, uuid), if one was involved.
    pub server: Option<(String, u32)>,
    /// Offset of the first faulty byte in `bytes`.
    pub error_pos: usize,
    /// What was received, up to one buffer.
    pub bytes: Box<[u8]>,
}
