//! Log-format strings (`%[src]`, `%ci:%cp`, literal text) used by header
//! values and redirect targets, compiled into a list of parts.

use std::io::Write;

use super::ctx::Ctx;
use super::eval::sample;
use super::expr::SampleExpr;

/// One part of a log-format string.
#[derive(Debug, Clone)]
pub enum LogPart {
    Literal(Box<[u8]>),
    /// `%[fetch,conv...]`.
    Sample(SampleExpr),
    /// `%ci`, `%cp`: the client's address and port.
    ClientIp,
    ClientPort,
    /// `%fi`, `%fp`: the local (frontend) address and port.
    FrontendIp,
    FrontendPort,
}

/// The log-format aliases lbd supports (`%ci` ...), by name.
pub const ALIASES: &[(&str, LogPart)] = &[
    ("ci", LogPart::ClientIp),
    ("cp", LogPart::ClientPort),
    ("fi", LogPart::FrontendIp),
    ("fp", LogPart::FrontendPort),
];

/// A compiled log-format string.
#[derive(Debug, Clone, Default)]
pub struct LogFormat {
    pub parts: Vec<LogPart>,
}

impl LogFormat {
    pub fn literal(text: &[u8]) -> LogFormat {
        LogFormat {
            parts: vec![LogPart::Literal(text.into())],
        }
    }

    /// Whether the string has no `%` part (its value is known at compile time).
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [] => Some(b""),
            [LogPart::Literal(l)] => Some(l),
            _ => None,
        }
    }

    /// Appends the expanded string to `out`. A sample that cannot be fetched
    /// expands to nothing, as in HAProxy.
    pub fn expand(&self, ctx: &Ctx<'_>, out: &mut Vec<u8>) {
        for part in &self.parts {
            // Writing numbers into a Vec cannot fail.
            let written = match part {
                LogPart::Literal(l) => {
                    out.extend_from_slice(l);
                    Ok(())
                }
                LogPart::Sample(expr) => {
                    if let Some(s) = sample(expr, ctx) {
                        s.write_to(out);
                    }
                    Ok(())
                }
                LogPart::ClientIp => write!(out, "{}", ctx.client.ip()),
                LogPart::ClientPort => write!(out, "{}", ctx.client.port()),
                LogPart::FrontendIp => write!(out, "{}", ctx.local.ip()),
                LogPart::FrontendPort => write!(out, "{}", ctx.local.port()),
            };
            debug_assert!(written.is_ok());
        }
    }
}
