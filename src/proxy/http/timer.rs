//! One timer per client connection (or tunnel direction), re-armed
//! lazily. Arming and cancelling a runtime timer for every wait (the next
//! request, the server's answer) showed in profiles of keep-alive traffic;
//! here each wait only computes its deadline. The timer stays armed at an earlier deadline; when it
//! fires before the wait's own deadline it is moved there, so a connection
//! whose waits all end in time touches the timer about once per timeout
//! period instead of twice per request.

use std::future::Future;
use std::pin::{Pin, pin};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::proxy::ProxyError;

/// Created empty: a connection that never waits with a timeout allocates
/// no timer.
#[derive(Default)]
pub struct LazyTimer {
    /// The timer and where it is armed, once a wait needed one.
    sleep: Option<(Pin<Box<Sleep>>, Instant)>,
}

impl LazyTimer {
    /// Runs `fut` for at most `ms` milliseconds (no limit with `None`); on
    /// expiry returns `on_timeout`. Like [`super::within`], a future that
    /// finishes at its first poll reads no clock.
    pub async fn within<T, F>(
        &mut self,
        ms: Option<u64>,
        on_timeout: ProxyError,
        fut: F,
    ) -> Result<T, ProxyError>
    where
        F: Future<Output = Result<T, ProxyError>>,
    {
        let Some(ms) = ms else {
            return fut.await;
        };
        let mut fut = pin!(fut);
        if let Some(done) = super::poll_once(fut.as_mut()).await {
            return done;
        }
        let deadline = Instant::now() + Duration::from_millis(ms);
        self.until(deadline, fut).await.unwrap_or(Err(on_timeout))
    }

    /// Polls `fut` until it finishes or `deadline` passes (`None`).
    pub async fn until<F: Future>(
        &mut self,
        deadline: Instant,
        mut fut: Pin<&mut F>,
    ) -> Option<F::Output> {
        let (sleep, armed) = match &mut self.sleep {
            Some((sleep, armed)) => {
                if deadline < *armed {
                    sleep.as_mut().reset(deadline);
                    *armed = deadline;
                }
                (sleep, armed)
            }
            None => {
                let (sleep, armed) = self
                    .sleep
                    .insert((Box::pin(tokio::time::sleep_until(deadline)), deadline));
                (sleep, armed)
            }
        };
        loop {
            tokio::select! {
                biased;
                done = fut.as_mut() => return Some(done),
                () = sleep.as_mut() => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    // Armed for an earlier wait: move on to this one's end.
                    sleep.as_mut().reset(deadline);
                    *armed = deadline;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_at_its_own_deadline_whatever_was_armed_before() {
        let mut timer = LazyTimer::default();
        // A short wait that ends in time leaves the timer armed early.
        let quick = timer
            .within(Some(100), ProxyError::ClientTimeout, async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(1)
            })
            .await;
        assert_eq!(quick, Ok(1));
        // A later, longer wait is not cut when that early deadline passes.
        let start = Instant::now();
        let slow = timer
            .within(Some(1_000), ProxyError::ServerTimeout, async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok(2)
            })
            .await;
        assert_eq!(slow, Ok(2));
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        // A wait that never ends is cut at its own deadline.
        let start = Instant::now();
        let stuck = timer
            .within(
                Some(300),
                ProxyError::ServerTimeout,
                std::future::pending::<Result<(), ProxyError>>(),
            )
            .await;
        assert_eq!(stuck, Err(ProxyError::ServerTimeout));
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        // A shorter deadline than the armed one moves the timer closer.
        let start = Instant::now();
        let long_then_short = timer
            .within(
                Some(50),
                ProxyError::ClientTimeout,
                std::future::pending::<Result<(), ProxyError>>(),
            )
            .await;
        assert_eq!(long_then_short, Err(ProxyError::ClientTimeout));
        assert_eq!(start.elapsed(), Duration::from_millis(50));
        // No limit: no timeout.
        let free = timer
            .within(None, ProxyError::ClientTimeout, async { Ok(3) })
            .await;
        assert_eq!(free, Ok(3));
    }
}
