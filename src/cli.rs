//! Command-line definitions. No logic: `main` acts on what is parsed here.

use clap::Parser;
use std::path::PathBuf;

/// lbd: a load balancer that reads HAProxy's configuration language.
#[derive(Debug, Parser)]
#[command(name = "lbd", version, about, disable_version_flag = true)]
pub struct Args {
    /// Configuration file or directory (repeatable; loaded in order, a
    /// directory's *.cfg files in lexical order).
    #[arg(short = 'f', value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,

    /// Check the configuration and exit: 0 when valid, 1 otherwise.
    #[arg(short = 'c')]
    pub check: bool,

    /// Stay in the foreground and log debug messages to stderr.
    #[arg(short = 'd')]
    pub debug: bool,

    /// Write the process id to this file.
    #[arg(short = 'p', value_name = "PIDFILE")]
    pub pidfile: Option<PathBuf>,

    /// Print the version and exit.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,
}
