//! The `lbd` executable: parses arguments, calls into the library, and turns
//! the outcome into an exit code. The only place that exits the process.

use std::process::ExitCode;

use clap::Parser;
use lbd::cli::Args;
use lbd::reload::load_program;

fn main() -> ExitCode {
    let args = Args::parse();
    init_logs(args.debug);
    let checked = match load_program(&args.files) {
        Ok(checked) => checked,
        Err(problems) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            return ExitCode::from(1);
        }
    };
    for warning in &checked.warnings {
        eprintln!("{warning}");
    }
    if args.check {
        println!("Configuration file is valid");
        return ExitCode::SUCCESS;
    }
    let pidfile = args
        .pidfile
        .clone()
        .or(checked.program.global.pidfile.clone());
    let running = match lbd::run::start(checked) {
        Ok(running) => running,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Some(path) = &pidfile
        && let Err(e) = std::fs::write(path, format!("{}\n", std::process::id()))
    {
        eprintln!("[WARNING] cannot write pid file '{}': {e}", path.display());
    }
    if let Err(e) = watch_signals(running.server.stop_handle()) {
        eprintln!("[WARNING] signals not handled: {e}");
    }
    running.server.wait();
    running.api.stop();
    ExitCode::SUCCESS
}

/// Logs go to stderr: debug messages with `-d`, warnings and up otherwise.
fn init_logs(debug: bool) {
    let level = if debug {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// SIGTERM/SIGINT stop at once, SIGUSR1 stops gracefully (HAProxy's soft
/// stop), on a small thread of their own.
fn watch_signals(stop: lbd::proxy::StopHandle) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("lbd-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                let (Ok(mut term), Ok(mut int), Ok(mut usr1)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::user_defined1()),
                ) else {
                    eprintln!("[WARNING] cannot install signal handlers");
                    return;
                };
                loop {
                    tokio::select! {
                        _ = term.recv() => stop.stop_now(),
                        _ = int.recv() => stop.stop_now(),
                        _ = usr1.recv() => stop.stop_gracefully(),
                    }
                }
            });
        })?;
    Ok(())
}
