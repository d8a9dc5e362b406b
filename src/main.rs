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
    eprintln!("lbd: serving traffic is not wired yet; use -c to check a configuration");
    ExitCode::from(1)
}
