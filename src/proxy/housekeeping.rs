//! Periodic work of the whole process: expired stick table entries are
//! removed once a second, so `show table` and `table_cnt` stay exact even for
//! tables nobody touches.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::shared::{Shared, Stop};

const PURGE_EVERY: Duration = Duration::from_secs(1);

/// Starts the housekeeping thread; it ends when the process stops.
pub fn spawn(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("lbd-housekeeping".into())
        .spawn(move || runtime.block_on(run(shared)))
}

async fn run(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    let mut tick = tokio::time::interval(PURGE_EVERY);
    loop {
        // Checked before every wait: a stop requested before this task
        // subscribed is not a change `changed()` would report.
        if *stop.borrow_and_update() != Stop::Running {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {
                let purged = shared.tables.purge_expired(crate::clock::refresh());
                if purged > 0 {
                    tracing::debug!(purged, "expired stick table entries removed");
                }
            }
            changed = stop.changed() => {
                // Any stop ends the housekeeping: `wait` joins this thread.
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
