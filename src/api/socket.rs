//! Stats sockets: binding and serving.
//!
//! Framing (`haproxy-cli.md` §1): a request is a line ending in `\n` (a
//! `\r` before it is dropped); a line without `\n` is never run. Each
//! command's answer is followed by `\n`, or `\n> ` in prompt mode.
//! Without prompt mode, every complete line already received is run, then
//! the connection is closed. An idle client is closed after the session's
//! timeout; one that sends more than a buffer without a newline gets an
//! error and is closed. Each client is a task of its own and commands never
//! hold a lock across a write, so a slow or hostile client delays no one.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::Semaphore;

use super::command::{self, Outcome, Session};
use super::{ApiError, Live, messages};
use crate::compile::program::{Level, StatsSocket};

/// Largest request line (HAProxy's default `tune.bufsize`).
const MAX_LINE: usize = 16_384;
/// Clients served at once; more wait in the accept queue until one leaves
/// (an idle one leaves at its timeout). HAProxy's default is 10.
const MAX_CLIENTS: usize = 256;
/// Table entries formatted per batch of a `show table` dump.
const DUMP_BATCH: usize = 256;
/// Output is written once this much is buffered.
const WRITE_CHUNK: usize = 64 * 1024;

/// A bound socket waiting to be served.
pub struct Bound {
    pub path: PathBuf,
    pub level: Level,
    listener: StdUnixListener,
}

/// Binds `sock.path`: bound under a temporary name, given its mode, then
/// renamed over the final path, so that a stale socket file from a previous
/// run is replaced and clients never see a socket with the wrong mode. A
/// path too long for the temporary name is bound in place instead. A file
/// that is not a socket is never replaced.
pub fn bind(sock: &StatsSocket) -> Result<Bound, ApiError> {
    let path = sock.path.clone();
    let err = |source| ApiError::Bind {
        path: path.clone(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && !meta.file_type().is_socket()
    {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file that is not a socket is in the way",
        )));
    }
    let mut tmp = path.clone().into_os_string();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    remove_if_present(&tmp).map_err(err)?;
    let (listener, at) = match StdUnixListener::bind(&tmp) {
        Ok(l) => (l, tmp),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            remove_if_present(&path).map_err(err)?;
            (StdUnixListener::bind(&path).map_err(err)?, path.clone())
        }
        Err(e) => return Err(err(e)),
    };
    let placed = sock
        .mode
        .map_or(Ok(()), |mode| {
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode))
        })
        .and_then(|()| {
            if at == path {
                Ok(())
            } else {
                std::fs::rename(&at, &path)
            }
        })
        .and_then(|()| listener.set_nonblocking(true));
    if let Err(e) = placed {
        if let Err(rm) = std::fs::remove_file(&at) {
            tracing::debug!("removing {}: {rm}", at.display());
        }
        return Err(err(e));
    }
    Ok(Bound {
        path,
        level: sock.level,
        listener,
    })
}

fn remove_if_present(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The API thread's body: serves every bound socket until `stop` turns true.
pub fn serve(live: Arc<Live>, bound: Vec<Bound>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("runtime API: cannot build a runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
        for b in bound {
            match tokio::net::UnixListener::from_std(b.listener) {
                Ok(l) => {
                    tokio::spawn(accept_loop(
                        Arc::clone(&live),
                        l,
                        b.level,
                        Arc::clone(&slots),
                    ));
                }
                Err(e) => tracing::error!("stats socket {}: {e}", b.path.display()),
            }
        }
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    });
}

async fn accept_loop(
    live: Arc<Live>,
    listener: tokio::net::UnixListener,
    level: Level,
    slots: Arc<Semaphore>,
) {
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                let ctx = live.get();
                ctx.cli_conns.fetch_add(1, Ordering::Relaxed);
                let timeout_ms = ctx.program.global.stats_timeout_ms;
                let live = Arc::clone(&live);
                tokio::spawn(async move {
                    serve_client(&live, stream, level, timeout_ms).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: try again shortly.
                tracing::warn!("stats socket accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves one client until it quits, times out, or (without prompt mode)
/// its first lines are answered.
pub async fn serve_client(live: &Live, stream: UnixStream, level: Level, timeout_ms: u64) {
    let (mut rd, mut wr) = stream.into_split();
    let mut session = Session {
        level,
        prompt: false,
        timeout_ms,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let mut ran = false;
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            ran = true;
            let text = String::from_utf8_lossy(&line);
            match run_line(live, &mut session, &text, &mut wr).await {
                Ok(true) => {}
                Ok(false) | Err(_) => return,
            }
        }
        if ran && !session.prompt {
            return;
        }
        if buf.len() > MAX_LINE {
            write_timed(
                &mut wr,
                messages::LINE_TOO_LONG.as_bytes(),
                session.timeout_ms,
            )
            .await
            .ok();
            return;
        }
        let idle = Duration::from_millis(session.timeout_ms.max(1));
        match tokio::time::timeout(idle, rd.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            // End of input, a read error or the idle timeout: close.
            _ => return,
        }
    }
}

/// Runs every command of one line, writing each answer and terminator.
/// Returns whether the connection stays open (`false` after `quit`).
async fn run_line(
    live: &Live,
    session: &mut Session,
    line: &str,
    wr: &mut OwnedWriteHalf,
) -> std::io::Result<bool> {
    for cmd in command::split_commands(line) {
        let args = command::words(cmd);
        crate::clock::refresh();
        let outcome = command::run(&live.get(), session, &args);
        let timeout_ms = session.timeout_ms;
        match outcome {
            Outcome::Quit => return Ok(false),
            Outcome::Text(mut text) => {
                text.push_str(terminator(session));
                write_timed(wr, text.as_bytes(), timeout_ms).await?;
            }
            Outcome::Dump {
                table,
                filter,
                skip_if_empty,
            } => {
                let now = crate::clock::now_ms();
                let mut dump = table.dump(filter, now);
                let mut out = String::new();
                if !(skip_if_empty && dump.is_empty()) {
                    table.show_header(&mut out, now);
                    while dump.next_batch(&mut out, DUMP_BATCH, now) {
                        if out.len() >= WRITE_CHUNK {
                            write_timed(wr, out.as_bytes(), timeout_ms).await?;
                            out.clear();
                        }
                    }
                }
                out.push_str(terminator(session));
                write_timed(wr, out.as_bytes(), timeout_ms).await?;
            }
        }
    }
    Ok(true)
}

/// What follows every answer.
pub fn terminator(session: &Session) -> &'static str {
    if session.prompt { "\n> " } else { "\n" }
}

async fn write_timed(
    wr: &mut OwnedWriteHalf,
    bytes: &[u8],
    timeout_ms: u64,
) -> std::io::Result<()> {
    let limit = Duration::from_millis(timeout_ms.max(1));
    match tokio::time::timeout(limit, wr.write_all(bytes)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}
