//! What every integration test needs: the real `lbd` binary, scratch
//! directories, free loopback ports, processes killed on drop, and one
//! bounded way to wait for something to become true.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The `lbd` binary cargo built for these tests.
pub fn lbd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lbd"))
}

/// Whether a program is on the PATH (to skip comparisons when it is not).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A scratch directory removed on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("lbd-it-{}-{label}-{n}", std::process::id()));
        // A leftover from a killed run of the same pid is replaced.
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("remove stale scratch dir");
        }
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Scratch { path }
    }

    /// Writes a file under the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, text).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {e}", self.path.display());
        }
    }
}

/// A loopback port nobody listens on right now. Ports are handed out once
/// per test process, so two tests never get the same one.
pub fn free_port() -> u16 {
    static HANDED_OUT: parking_lot::Mutex<Vec<u16>> = parking_lot::Mutex::new(Vec::new());
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("local addr").port();
        let mut handed = HANDED_OUT.lock();
        if !handed.contains(&port) {
            handed.push(port);
            return port;
        }
    }
}

/// `lbd -c -f <files>` run in `dir`.
pub fn check(dir: &Path, files: &[&Path]) -> Output {
    let mut cmd = Command::new(lbd_bin());
    cmd.current_dir(dir).arg("-c");
    for f in files {
        cmd.arg("-f").arg(f);
    }
    cmd.output().expect("run lbd -c")
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    pub child: Child,
    pub name: &'static str,
}

impl Proc {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc { child, name }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("kill {}: {e}", self.name);
        }
        if let Err(e) = self.child.wait() {
            eprintln!("reap {}: {e}", self.name);
        }
    }
}

/// Polls `probe` until it returns `Some`, at most `tries` times, `patience`
/// apart. The only place tests wait.
pub fn eventually<T>(
    tries: u32,
    patience: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    for attempt in 0..tries {
        if let Some(v) = probe() {
            return Some(v);
        }
        if attempt + 1 < tries {
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(patience);
        }
    }
    None
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_listening(port: u16) -> bool {
    eventually(100, Duration::from_millis(50), || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    })
    .is_some()
}

/// Milliseconds since `start`, for messages.
pub fn elapsed_ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
