//! The `lbd` executable: parses arguments, calls into the library, and turns
//! the outcome into an exit code. The only place that exits the process.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = lbd::cli::Args::parse();
    let _ = &args;
    ExitCode::SUCCESS
}
