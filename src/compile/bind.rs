//! `bind` lines.

use super::addr::{self, Addr};
use super::args::required;
use super::cx::Cx;
use super::program::{Bind, BindAddr, BindCert, BindTls, Verify};
use super::suggest::best_match;
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;

/// Bind options lbd acts on.
const SUPPORTED: &[&str] = &[
    "name",
    "ssl",
    "crt",
    "crt-list",
    "alpn",
    "accept-proxy",
    "v4v6",
    "v6only",
    "ca-file",
    "verify",
    "ssl-min-ver",
    "ciphers",
    "ciphersuites",
];

/// Bind options HAProxy 2.6 knows that lbd does not support.
const NOT_SUPPORTED: &[&str] = &[
    "accept-netscaler-cip",
    "allow-0rtt",
    "backlog",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "crl-file",
    "crt-ignore-err",
    "curves",
    "defer-accept",
    "ecdhe",
    "expose-fd",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "generate-certificates",
    "gid",
    "group",
    "id",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "namespace",
    "nice",
    "no-ca-names",
    "no-sslv3",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "npn",
    "prefer-client-ciphers",
    "process",
    "proto",
    "quic-cc-algo",
    "quic-force-retry",
    "severity-output",
    "shards",
    "ssl-max-ver",
    "strict-sni",
    "tcp-ut",
    "tfo",
    "thread",
    "tls-ticket-keys",
    "transparent",
    "uid",
    "user",
];

/// Compiles `bind <addr>[,<addr>]* [options]`.
pub fn compile(line: &LineDecl, cx: &Cx) -> Result<Bind, Diagnostic> {
    let list = required(line, 1, "bind", "an address")?;
    let mut addrs = Vec::new();
    for part in list.text.split(',') {
        match addr::parse(part, true, cx.resolve_names) {
            Ok(Addr::Inet { ip, ports }) => {
                addrs.extend(addr::expand(ip, ports).into_iter().map(BindAddr::Inet));
            }
            Ok(Addr::Unix(path)) => addrs.push(BindAddr::Unix(path)),
            Err(e) => return Err(Diagnostic::error(list.span, format!("'bind {part}': {e}"))),
        }
    }
    let mut bind = Bind {
        addrs,
        name: None,
        tls: None,
        accept_proxy: false,
        v4v6: false,
        v6only: false,
    };
    let mut tls = BindTls::default();
    let mut ssl = false;
    let mut i = 2;
    while let Some(word) = line.words.get(i) {
        let value = || required(line, i + 1, &word.text, "a value");
        let used = match word.text.as_str() {
            "ssl" => {
                ssl = true;
                1
            }
            "accept-proxy" => {
                bind.accept_proxy = true;
                1
            }
            "v4v6" => {
                bind.v4v6 = true;
                1
            }
            "v6only" => {
                bind.v6only = true;
                1
            }
            "name" => {
                bind.name = Some(value()?.text.clone());
                2
            }
            "crt" => {
                let v = value()?;
                tls.certs
                    .push(BindCert::Crt(cx.resolve_crt(v.span, &v.text)));
                2
            }
            "crt-list" => {
                let v = value()?;
                tls.certs.push(BindCert::CrtList {
                    path: cx.resolve_path(v.span, &v.text),
                    dir: cx.crt_list_dir(v.span),
                });
                2
            }
            "ca-file" => {
                let v = value()?;
                tls.ca_file = Some(cx.resolve_ca(v.span, &v.text));
                2
            }
            "alpn" => {
                tls.alpn = value()?.text.split(',').map(str::to_string).collect();
                2
            }
            "verify" => {
                let v = value()?;
                tls.verify = Verify::from_keyword(&v.text).ok_or_else(|| {
                    Diagnostic::error(
                        v.span,
                        format!(
                            "'verify' expects 'none', 'optional' or 'required', got '{}'",
                            v.text
                        ),
                    )
                })?;
                2
            }
            "ssl-min-ver" => {
                let v = value()?;
                if !matches!(
                    v.text.as_str(),
                    "SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"
                ) {
                    return Err(Diagnostic::error(
                        v.span,
                        format!("'ssl-min-ver' expects a TLS version, got '{}'", v.text),
                    ));
                }
                tls.min_version = Some(v.text.clone());
                2
            }
            "ciphers" => {
                tls.ciphers = Some(value()?.text.clone());
                2
            }
            "ciphersuites" => {
                tls.ciphersuites = Some(value()?.text.clone());
                2
            }
            _ => return Err(unknown_option(word)),
        };
        i += used;
    }
    if ssl {
        if tls.certs.is_empty() {
            return Err(Diagnostic::error(
                line.keyword().span,
                "'bind ... ssl' needs a certificate ('crt' or 'crt-list')",
            ));
        }
        bind.tls = Some(tls);
    } else if !tls.certs.is_empty() {
        // HAProxy loads the certificates but serves plain text without 'ssl'.
        bind.tls = None;
    }
    Ok(bind)
}

fn unknown_option(word: &Word) -> Diagnostic {
    if NOT_SUPPORTED.contains(&word.text.as_str()) {
        return Diagnostic::error(
            word.span,
            format!("bind option '{}' is not supported by lbd", word.text),
        );
    }
    let diag = Diagnostic::error(word.span, format!("unknown bind option '{}'", word.text));
    match best_match(&word.text, SUPPORTED.iter().chain(NOT_SUPPORTED).copied()) {
        Some(m) => diag.with_help(format!("did you mean '{m}'?")),
        None => diag,
    }
}
