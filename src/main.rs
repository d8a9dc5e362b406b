//! The `lbd` executable: parses arguments, calls into the library, and turns
//! the outcome into an exit code. The only place that exits the process.

use std::process::ExitCode;

use clap::Parser;
use lbd::cli::Args;
use lbd::reload::load_program;

fn main() -> ExitCode {
    let args = Args::parse();
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
    let program = std::sync::Arc::new(checked.program);
    let server = match lbd::proxy::serve(program, lbd::proxy::ServeOptions::default()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("[ALERT] {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = watch_signals(server.stop_handle()) {
        eprintln!("[WARNING] signals not handled: {e}");
    }
    server.wait();
    ExitCode::SUCCESS
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
