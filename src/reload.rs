//! From configuration files to a runnable `Program`: load, parse, compile.
//! (Reload — compile again and swap — builds on this.)

use std::path::PathBuf;

use crate::compile::{self, program::Program};
use crate::config::diag::{Severity, render};
use crate::tls::{self, TlsSet};

/// A compiled program and the warnings printed on the way.
pub struct Checked {
    pub program: Program,
    /// The rustls configurations of its TLS binds and servers, every
    /// certificate and key already loaded.
    pub tls: TlsSet,
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
        Some(program) if !parse_failed => {
            // Certificates, keys and CA files are read now, so that a
            // missing or mismatched one fails `lbd -c` and a reload.
            let (tls, problems) = TlsSet::build(&program);
            let mut tls_failed = false;
            for problem in problems {
                rendered.push(match problem.severity {
                    tls::Severity::Warning => {
                        (Severity::Warning, format!("warning: {}", problem.message))
                    }
                    tls::Severity::Error => {
                        tls_failed = true;
                        (Severity::Error, problem.message)
                    }
                });
            }
            let rendered = rendered.into_iter().map(|(_, r)| r).collect();
            match tls_failed {
                true => Err(rendered),
                false => Ok(Checked {
                    program,
                    tls,
                    warnings: rendered,
                }),
            }
        }
        _ => Err(rendered.into_iter().map(|(_, r)| r).collect()),
    }
}
