//! `log` lines (global and proxies).

use super::addr::{self, Addr};
use super::args::required;
use super::program::{LogDestination, LogHeader, LogTarget};
use crate::config::ast::LineDecl;
use crate::config::diag::Diagnostic;

/// Syslog facilities HAProxy accepts.
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog levels HAProxy accepts.
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Parses `log <target> [len N] [format F] [sample R:S] <facility> [max [min]]`
/// starting at word `at` (the target). `log global` is handled by the caller.
pub fn parse(line: &LineDecl, at: usize, resolve: bool) -> Result<LogTarget, Diagnostic> {
    let target = required(line, at, "log", "a target address")?;
    let destination = match target.text.as_str() {
        "stdout" => LogDestination::Stdout,
        "stderr" => LogDestination::Stderr,
        text => match addr::parse(text, false, resolve) {
            Ok(Addr::Unix(path)) => LogDestination::Unix(path),
            Ok(Addr::Inet { ip, ports }) => LogDestination::Udp((ip, ports.0).into()),
            // Syslog's port is optional: 514 by default.
            Err(e) if e == "missing port" => {
                match addr::parse(&format!("{text}:514"), false, resolve) {
                    Ok(Addr::Inet { ip, ports }) => LogDestination::Udp((ip, ports.0).into()),
                    _ => {
                        return Err(Diagnostic::error(
                            target.span,
                            format!("'log': invalid target '{text}'"),
                        ));
                    }
                }
            }
            Err(e) => return Err(Diagnostic::error(target.span, format!("'log': {e}"))),
        },
    };
    let mut i = at + 1;
    let mut format = LogHeader::default();
    while let Some(word) = line.words.get(i) {
        match word.text.as_str() {
            "format" => {
                let name = required(line, i + 1, "log format", "a format name")?;
                format = LogHeader::from_keyword(&name.text).ok_or_else(|| {
                    Diagnostic::error(
                        name.span,
                        format!(
                            "'log' format '{}' is not supported by lbd (supported: rfc3164, short, raw)",
                            name.text
                        ),
                    )
                })?;
                i += 2;
            }
            "len" | "sample" => i += 2,
            _ => break,
        }
    }
    let facility = required(line, i, "log", "a facility")?;
    if !FACILITIES.contains(&facility.text.as_str()) {
        return Err(Diagnostic::error(
            facility.span,
            format!("'log' expects a syslog facility, got '{}'", facility.text),
        ));
    }
    let max_level = line.words.get(i + 1);
    for level in line.words.iter().skip(i + 1).take(2) {
        if !LEVELS.contains(&level.text.as_str()) {
            return Err(Diagnostic::error(
                level.span,
                format!("'log' expects a syslog level, got '{}'", level.text),
            ));
        }
    }
    if let Some(extra) = line.words.get(i + 3) {
        return Err(Diagnostic::error(
            extra.span,
            format!("'log' takes no more arguments, got '{}'", extra.text),
        ));
    }
    Ok(LogTarget {
        destination,
        format,
        facility: facility.text.clone(),
        max_level: max_level.map(|w| w.text.clone()),
    })
}
