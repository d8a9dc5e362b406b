//! From configuration files to a runnable `Program`: load, parse, compile.
//! (Reload — compile again and swap — builds on this.)

use std::path::PathBuf;

use crate::compile::{self, program::Program};
use crate::config::diag::{Severity, render};

/// A compiled program and the warnings printed on the way.
pub struct Checked {
    pub program: Program,
    pub warnings: Vec<String>,
}

/// Loads, parses and compiles the given files and directories. On failure
/// the error holds every rendered diagnostic, warnings included, in order.
pub fn load_program(paths: &[PathBuf]) -> Result<Checked, Vec<String>> {
    let loaded = crate::config::load(paths);
    let mut rendered: Vec<(Severity, String)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.severity, render(d, &loaded.source_map)))
        .collect();
    let fatal = loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Fatal);
    if fatal {
        return Err(rendered.into_iter().map(|(_, r)| r).collect());
    }
    let compiled = compile::compile(&loaded.config, &loaded.source_map);
    rendered.extend(
        compiled
            .diagnostics
            .iter()
            .map(|d| (d.severity, render(d, &loaded.source_map))),
    );
    let parse_failed = loaded.has_errors();
    match compiled.program {
        Some(program) if !parse_failed => Ok(Checked {
            program,
            warnings: rendered.into_iter().map(|(_, r)| r).collect(),
        }),
        _ => Err(rendered.into_iter().map(|(_, r)| r).collect()),
    }
}
