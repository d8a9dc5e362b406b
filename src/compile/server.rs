//! `server` and `default-server` lines.

use std::sync::Arc;

use super::addr::{self, Addr};
use super::args::{self, required};
use super::cx::Cx;
use super::program::{CheckParams, Server, ServerTls};
use super::suggest::best_match;
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;
use crate::stats::ServerState;

/// Server options lbd acts on.
const SUPPORTED: &[&str] = &[
    "weight",
    "maxconn",
    "check",
    "no-check",
    "inter",
    "fastinter",
    "downinter",
    "fall",
    "rise",
    "port",
    "backup",
    "no-backup",
    "disabled",
    "enabled",
    "ssl",
    "no-ssl",
    "verify",
    "ca-file",
    "sni",
    "send-proxy",
    "no-send-proxy",
    "id",
];

/// Server options HAProxy 2.6 knows that lbd does not support.
const NOT_SUPPORTED: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    "error-limit",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "init-addr",
    "log-proto",
    "max-reuse",
    "maxqueue",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-check-ssl",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "non-stick",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "socks4",
    "source",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "tcp-ut",
    "tfo",
    "tls-tickets",
    "track",
    "verifyhost",
    "ws",
];

/// Settings of a server line or of `default-server`; `None` = not given.
#[derive(Debug, Clone, Default)]
pub struct ServerParams {
    pub weight: Option<u32>,
    pub maxconn: Option<u32>,
    pub check: Option<bool>,
    pub inter_ms: Option<u64>,
    pub fall: Option<u32>,
    pub rise: Option<u32>,
    pub port: Option<u16>,
    pub backup: Option<bool>,
    pub disabled: Option<bool>,
    pub ssl: Option<bool>,
    pub verify: Option<bool>,
    pub ca_file: Option<std::path::PathBuf>,
    pub sni: Option<String>,
    pub send_proxy: Option<bool>,
    pub id: Option<u32>,
}

impl ServerParams {
    /// These settings with `defaults` filling what they leave unset.
    pub fn over(&self, defaults: &ServerParams) -> ServerParams {
        macro_rules! pick {
            ($($f:ident),*) => { ServerParams { $($f: self.$f.clone().or_else(|| defaults.$f.clone())),* } };
        }
        pick!(
            weight, maxconn, check, inter_ms, fall, rise, port, backup, disabled, ssl, verify,
            ca_file, sni, send_proxy, id
        )
    }
}

/// Parses the options of a server or default-server line from word `from`.
pub fn parse_params(line: &LineDecl, from: usize, cx: &Cx) -> Result<ServerParams, Diagnostic> {
    let mut p = ServerParams::default();
    let mut i = from;
    while let Some(word) = line.words.get(i) {
        let value = |n: usize| required(line, i + n, &word.text, "a value");
        let used = match word.text.as_str() {
            "weight" => {
                p.weight = Some(args::uint(value(1)?, "weight", 256)? as u32);
                2
            }
            "maxconn" => {
                p.maxconn = Some(args::uint(value(1)?, "maxconn", u64::from(u32::MAX))? as u32);
                2
            }
            "inter" | "fastinter" | "downinter" => {
                let ms = args::time(value(1)?, &word.text)?;
                if word.text == "inter" {
                    p.inter_ms = Some(ms.max(1));
                }
                2
            }
            "fall" | "rise" => {
                let n = args::uint(value(1)?, &word.text, u64::from(u32::MAX))? as u32;
                if n == 0 {
                    return Err(Diagnostic::error(
                        line.words[i + 1].span,
                        format!("'{}' must be at least 1", word.text),
                    ));
                }
                if word.text == "fall" {
                    p.fall = Some(n)
                } else {
                    p.rise = Some(n)
                }
                2
            }
            "port" => {
                p.port = Some(args::uint(value(1)?, "port", 65_535)? as u16);
                2
            }
            "id" => {
                p.id = Some(args::uint(value(1)?, "id", u64::from(u32::MAX))? as u32);
                2
            }
            "verify" => {
                let v = value(1)?;
                p.verify = Some(match v.text.as_str() {
                    "none" => false,
                    "required" => true,
                    other => {
                        return Err(Diagnostic::error(
                            v.span,
                            format!("'verify' expects 'none' or 'required', got '{other}'"),
                        ));
                    }
                });
                2
            }
            "ca-file" => {
                let v = value(1)?;
                p.ca_file = Some(cx.resolve_ca(v.span, &v.text));
                2
            }
            "sni" => {
                p.sni = Some(sni_name(value(1)?)?);
                2
            }
            "check" | "no-check" => flag(&mut p.check, word, "check"),
            "backup" | "no-backup" => flag(&mut p.backup, word, "backup"),
            "ssl" | "no-ssl" => flag(&mut p.ssl, word, "ssl"),
            "send-proxy" | "no-send-proxy" => flag(&mut p.send_proxy, word, "send-proxy"),
            "disabled" => {
                p.disabled = Some(true);
                1
            }
            "enabled" => {
                p.disabled = Some(false);
                1
            }
            _ => return Err(unknown_option(word)),
        };
        i += used;
    }
    Ok(p)
}

/// `check` sets, `no-check` clears; one word used.
fn flag(slot: &mut Option<bool>, word: &Word, positive: &str) -> usize {
    *slot = Some(word.text == positive);
    1
}

/// `sni str(name)` or `sni <literal>`; other sample expressions are not supported.
fn sni_name(word: &Word) -> Result<String, Diagnostic> {
    if let Some(inner) = word
        .text
        .strip_prefix("str(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return Ok(inner.to_string());
    }
    if word.text.contains('(') || word.text.contains(',') {
        return Err(Diagnostic::error(
            word.span,
            format!(
                "'sni {}': only 'str(<name>)' is supported by lbd",
                word.text
            ),
        ));
    }
    Ok(word.text.clone())
}

fn unknown_option(word: &Word) -> Diagnostic {
    if NOT_SUPPORTED.contains(&word.text.as_str()) {
        return Diagnostic::error(
            word.span,
            format!("server option '{}' is not supported by lbd", word.text),
        );
    }
    let diag = Diagnostic::error(word.span, format!("unknown server option '{}'", word.text));
    match best_match(&word.text, SUPPORTED.iter().chain(NOT_SUPPORTED).copied()) {
        Some(m) => diag.with_help(format!("did you mean '{m}'?")),
        None => diag,
    }
}

/// Builds a server from `server <name> <addr> [options]`, with the
/// backend's `default-server` settings under its own.
pub fn compile(
    line: &LineDecl,
    defaults: &ServerParams,
    index: u32,
    cx: &Cx,
) -> Result<Server, Diagnostic> {
    let name = required(line, 1, "server", "a name and an address")?;
    let addr_word = required(line, 2, "server", "an address")?;
    let params = parse_params(line, 3, cx)?.over(defaults);
    let addr = match addr::parse(&addr_word.text, false, cx.resolve_names) {
        Ok(Addr::Inet { ip, ports }) => (ip, ports.0).into(),
        Ok(Addr::Unix(_)) => {
            return Err(Diagnostic::error(
                addr_word.span,
                "servers on unix sockets are not supported by lbd",
            ));
        }
        Err(e) if e == "missing port" => {
            return Err(Diagnostic::error(
                addr_word.span,
                format!(
                    "server '{}' has no port: forwarding to the client's destination port is not supported by lbd",
                    name.text
                ),
            ));
        }
        Err(e) => {
            return Err(Diagnostic::error(
                addr_word.span,
                format!("server '{}': {e}", name.text),
            ));
        }
    };
    let weight = params.weight.unwrap_or(1);
    let check = params.check.unwrap_or(false).then(|| CheckParams {
        inter_ms: params.inter_ms.unwrap_or(2_000),
        fall: params.fall.unwrap_or(3),
        rise: params.rise.unwrap_or(2),
        port: params.port,
    });
    let tls = params.ssl.unwrap_or(false).then(|| ServerTls {
        verify: params.verify.unwrap_or(true),
        ca_file: params.ca_file.clone(),
        sni: params.sni.clone(),
    });
    let disabled = params.disabled.unwrap_or(false);
    Ok(Server {
        index,
        uuid: params.id.unwrap_or(index + 1),
        name: name.text.clone(),
        addr,
        weight,
        maxconn: params.maxconn.unwrap_or(0),
        check,
        backup: params.backup.unwrap_or(false),
        tls,
        send_proxy: params.send_proxy.unwrap_or(false),
        state: Arc::new(ServerState::new(weight, disabled)),
    })
}
