//! `mode http`: HTTP/1.1 (RFC 9112) between clients and servers.
//!
//! - `buffer`: the per-connection read buffer, reused for every message;
//! - `codec`: request and response heads parsed (httparse) and validated
//!   into the shared `RequestHead`/`ResponseHead`;
//! - `headers`: hop-by-hop removal, `Connection` tokens, `X-Forwarded-For`;
//! - `framing`: bodies streamed by length, chunked (re-framed) or to close;
//! - `errors`: HAProxy's default error responses and `errorfile` pages;
//! - `session`: the request loop of one client connection.

mod answer;
pub mod buffer;
pub mod codec;
pub mod errors;
mod exchange;
pub mod framing;
pub mod headers;
pub mod session;
pub mod timer;

/// Runs `fut` with an optional timeout in milliseconds; on expiry returns
/// `on_timeout`. The future is polled once before any timer exists: most
/// writes, and reads of bytes already queued, finish there, and then no
/// clock is read and no timer is armed or cancelled.
pub async fn within<T, F>(
    ms: Option<u64>,
    on_timeout: crate::proxy::ProxyError,
    fut: F,
) -> Result<T, crate::proxy::ProxyError>
where
    F: std::future::Future<Output = Result<T, crate::proxy::ProxyError>>,
{
    let Some(ms) = ms else {
        return fut.await;
    };
    let mut fut = std::pin::pin!(fut);
    if let Some(done) = poll_once(fut.as_mut()).await {
        return done;
    }
    tokio::time::timeout(std::time::Duration::from_millis(ms), fut)
        .await
        .unwrap_or(Err(on_timeout))
}

/// Polls `fut` once: its output if it finished there, else `None` (it is
/// then registered for wake-ups like any pending future).
pub async fn poll_once<F: std::future::Future>(
    mut fut: std::pin::Pin<&mut F>,
) -> Option<F::Output> {
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        std::task::Poll::Ready(done) => std::task::Poll::Ready(Some(done)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}
