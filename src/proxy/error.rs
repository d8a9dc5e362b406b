//! Errors of the data plane. Every error says which side failed, maps to the
//! HTTP status HAProxy answers with, and is built without allocating.

use std::fmt;
use std::io;

/// Who is responsible for an error (pingora's split, HAProxy's termination
/// state first letter: `C`lient, `S`erver, `P`roxy policy, `I`nternal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
    Policy,
    Internal,
}

/// One failure of a session or a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyError {
    /// The client closed before a complete request or mid-transfer.
    ClientClosed,
    /// Reading from or writing to the client failed.
    ClientIo,
    /// `timeout client` expired.
    ClientTimeout,
    /// `timeout http-request` expired before a complete request head (408).
    RequestTimeout,
    /// The request is malformed or ambiguous (400); the text says why.
    BadRequest(&'static str),
    /// The request line is longer than the buffer (414).
    UriTooLong,
    /// The request head does not fit `tune.bufsize` (431).
    HeadersTooLarge,
    /// A transfer coding lbd does not forward (501).
    NotImplemented,
    /// No backend was selected for the request (503).
    NoBackend,
    /// No usable server in the backend (503).
    NoServer,
    /// `timeout queue` expired while every server was full (503).
    QueueTimeout,
    /// Every connection attempt failed (503).
    ConnectFailed,
    /// The server sent a malformed response or closed early (502).
    BadResponse(&'static str),
    /// `timeout server` expired (504).
    ServerTimeout,
    /// Reading from or writing to the server failed.
    ServerIo,
    /// The process is stopping.
    Stopping,
    /// `shutdown sessions server` ended the session.
    Killed,
}

impl ProxyError {
    pub fn side(self) -> Side {
        use ProxyError::*;
        match self {
            ClientClosed | ClientIo | ClientTimeout | RequestTimeout | BadRequest(_)
            | UriTooLong | HeadersTooLarge | NotImplemented => Side::Client,
            BadResponse(_) | ServerTimeout | ServerIo | ConnectFailed => Side::Server,
            NoBackend | NoServer | QueueTimeout | Killed => Side::Policy,
            Stopping => Side::Internal,
        }
    }

    /// The status answered to an HTTP client, when one is still possible.
    pub fn status(self) -> Option<u16> {
        use ProxyError::*;
        match self {
            RequestTimeout => Some(408),
            BadRequest(_) => Some(400),
            UriTooLong => Some(414),
            HeadersTooLarge => Some(431),
            NotImplemented => Some(501),
            NoBackend | NoServer | QueueTimeout | ConnectFailed => Some(503),
            BadResponse(_) | ServerIo => Some(502),
            ServerTimeout => Some(504),
            ClientClosed | ClientIo | ClientTimeout | Stopping | Killed => None,
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::BadRequest(why) => write!(f, "bad request: {why}"),
            ProxyError::BadResponse(why) => write!(f, "bad response: {why}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// Why `serve` could not start.
#[derive(Debug)]
pub enum StartError {
    /// A listening address could not be bound (in use, no permission, ...).
    Bind { addr: String, source: io::Error },
    /// Something the configuration asks for that the data plane cannot do
    /// yet (unix-socket or `ssl` binds, `accept-proxy`, `ssl` servers):
    /// refusing to start beats serving it wrongly (plain text on a TLS port).
    Unsupported { proxy: String, what: String },
    /// A worker thread or its runtime could not be created.
    Thread(io::Error),
    /// TLS material could not be loaded (the messages name the files).
    Tls(Vec<String>),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind { addr, source } => write!(f, "cannot bind socket [{addr}]: {source}"),
            StartError::Unsupported { proxy, what } => {
                write!(f, "proxy '{proxy}': {what} is not supported by lbd yet")
            }
            StartError::Thread(e) => write!(f, "cannot start a worker thread: {e}"),
            StartError::Tls(problems) => write!(f, "{}", problems.join("\n")),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind { source, .. } | StartError::Thread(source) => Some(source),
            StartError::Unsupported { .. } | StartError::Tls(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_haproxy_statuses_and_sides() {
        assert_eq!(ProxyError::BadRequest("x").status(), Some(400));
        assert_eq!(ProxyError::NoServer.status(), Some(503));
        assert_eq!(ProxyError::ServerTimeout.status(), Some(504));
        assert_eq!(ProxyError::ServerTimeout.side(), Side::Server);
        assert_eq!(ProxyError::ClientTimeout.status(), None);
        assert_eq!(ProxyError::QueueTimeout.side(), Side::Policy);
    }
}
