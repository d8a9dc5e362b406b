//! Zero-copy forwarding for tunnels between two plain TCP sockets: bytes
//! move socket → pipe → socket with splice(2) and are never copied into
//! lbd's memory. A tunnel leases one pipe per direction; pipes are kept per
//! worker thread for the next tunnel, and the process holds at most
//! `maxpipes` of them. Without a pipe (budget spent, `nosplice`, TLS on
//! either side) a tunnel copies through a buffer as before.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustix::pipe::{PipeFlags, SpliceFlags, fcntl_setpipe_size, pipe_with, splice};
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::compile::program::Global;
use crate::stats::PipeCounts;

/// The most one splice call asks for: more than a pipe holds by default,
/// so a single call takes all the socket has queued up to the pipe's size.
const SPLICE_MAX: usize = 1 << 20;

/// The process's pipe budget, shared by all workers.
#[derive(Debug)]
pub struct Pipes {
    /// Pipes that exist and pipes leased, for `show info`.
    counts: Arc<PipeCounts>,
    /// `maxpipes`.
    max: usize,
    /// `tune.pipesize` in bytes; 0 keeps the kernel's default (64 KiB).
    size: usize,
}

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

thread_local! {
    /// Empty pipes this worker thread can lease again.
    static IDLE: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
}

impl Pipes {
    /// The budget `global` asks for (`maxpipes`, by default a quarter of
    /// `maxconn`), or `None` with `nosplice`.
    pub fn for_program(global: &Global) -> Option<Pipes> {
        (!global.nosplice)
            .then(|| Pipes::new(global.max_pipes() as usize, global.tune_pipesize as usize))
    }

    pub fn new(max: usize, size: usize) -> Pipes {
        Pipes {
            counts: Arc::default(),
            max,
            size,
        }
    }

    /// A pipe for one direction of one tunnel, or `None` when the budget is
    /// spent or the kernel refuses one (then the tunnel copies).
    pub fn lease(&self) -> Option<Lease<'_>> {
        if let Some(pipe) = IDLE.with(|idle| idle.borrow_mut().pop()) {
            return Some(Lease::new(self, pipe));
        }
        let taken = self
            .counts
            .allocated
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            });
        if taken.is_err() {
            return None;
        }
        match self.create() {
            Ok(pipe) => Some(Lease::new(self, pipe)),
            Err(e) => {
                tracing::debug!("no pipe for splicing: {e}");
                self.counts.allocated.fetch_sub(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn create(&self) -> io::Result<Pipe> {
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        if self.size > 0 {
            // A smaller pipe than asked for still works; keep going.
            if let Err(e) = fcntl_setpipe_size(&write, self.size) {
                tracing::debug!("pipe size {}: {e}", self.size);
            }
        }
        Ok(Pipe { read, write })
    }

    /// What `show info` reads.
    pub fn counts(&self) -> Arc<PipeCounts> {
        Arc::clone(&self.counts)
    }
}

/// One pipe leased to one direction of a tunnel. Dropped empty, it goes
/// back to the worker's pool; dropped with bytes inside (the tunnel failed
/// mid-way), it is closed.
pub struct Lease<'a> {
    pipes: &'a Pipes,
    pipe: Option<Pipe>,
    /// Bytes in the pipe not yet spliced out.
    pending: usize,
}

impl<'a> Lease<'a> {
    fn new(pipes: &'a Pipes, pipe: Pipe) -> Lease<'a> {
        pipes.counts.leased.fetch_add(1, Ordering::Relaxed);
        Lease {
            pipes,
            pipe: Some(pipe),
            pending: 0,
        }
    }

    /// Waits until `from` has bytes (or its end), then moves what it has
    /// into the pipe. Returns 0 at end of stream.
    pub async fn fill(&mut self, from: &TcpStream) -> io::Result<usize> {
        self.fill_at_most(from, SPLICE_MAX).await
    }

    /// [`Lease::fill`], taking at most `max` bytes (the rest of a body whose
    /// length is known: what follows it stays in the socket). The pipe must
    /// be empty: then "would block" can only mean the socket has nothing.
    pub async fn fill_at_most(&mut self, from: &TcpStream, max: usize) -> io::Result<usize> {
        let Some(pipe) = &self.pipe else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        debug_assert_eq!(self.pending, 0);
        loop {
            from.readable().await?;
            let moved = from.try_io(Interest::READABLE, || {
                Ok(splice(
                    from.as_fd(),
                    None,
                    &pipe.write,
                    None,
                    max.min(SPLICE_MAX),
                    SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
                )?)
            });
            match moved {
                Ok(n) => {
                    self.pending = n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves everything in the pipe out to `to`, waiting while its send
    /// buffer is full.
    pub async fn drain(&mut self, to: &TcpStream) -> io::Result<()> {
        let Some(pipe) = &self.pipe else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        while self.pending > 0 {
            to.writable().await?;
            let moved = to.try_io(Interest::WRITABLE, || {
                Ok(splice(
                    &pipe.read,
                    None,
                    to.as_fd(),
                    None,
                    self.pending,
                    SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
                )?)
            });
            match moved {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.pending -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(pipe) = self.pipe.take() else {
            return;
        };
        self.pipes.counts.leased.fetch_sub(1, Ordering::Relaxed);
        if self.pending == 0 {
            IDLE.with(|idle| idle.borrow_mut().push(pipe));
        } else {
            drop(pipe);
            self.pipes.counts.allocated.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
