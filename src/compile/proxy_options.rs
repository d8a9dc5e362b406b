//! Proxy keywords that set simple values: `mode`, `timeout`, `option`,
//! `balance`, `stats`, `compression`, `http-check`.

use super::args::{self, required};
use super::program::{
    Balance, ForwardFor, HashFunction, HashMethod, HashType, HttpCheckExpect, HttpConnMode, Mode,
    Options, Timeouts,
};
use crate::config::ast::{LineDecl, Word};
use crate::config::diag::Diagnostic;

/// `mode tcp|http`.
pub fn mode(line: &LineDecl) -> Result<Mode, Diagnostic> {
    let word = required(line, 1, "mode", "'tcp' or 'http'")?;
    args::no_more(line, 2, "mode")?;
    match word.text.as_str() {
        "tcp" => Ok(Mode::Tcp),
        "http" => Ok(Mode::Http),
        "health" => Err(Diagnostic::error(
            word.span,
            "'mode health' is not supported anymore by HAProxy 2.6 (use 'monitor-uri')",
        )),
        other => Err(Diagnostic::error(
            word.span,
            format!("'mode' expects 'tcp' or 'http', got '{other}'"),
        )),
    }
}

/// `timeout <name> <time>`.
pub fn timeout(timeouts: &mut Timeouts, line: &LineDecl) -> Result<(), Diagnostic> {
    let name = &line.words[1].text;
    let keyword = format!("timeout {name}");
    let ms = args::time(required(line, 2, &keyword, "a time")?, &keyword)?;
    args::no_more(line, 3, &keyword)?;
    let slot = match name.as_str() {
        "connect" => &mut timeouts.connect_ms,
        "client" => &mut timeouts.client_ms,
        "server" => &mut timeouts.server_ms,
        "http-request" => &mut timeouts.http_request_ms,
        "http-keep-alive" => &mut timeouts.http_keep_alive_ms,
        "queue" => &mut timeouts.queue_ms,
        "tunnel" => &mut timeouts.tunnel_ms,
        "check" => &mut timeouts.check_ms,
        "client-fin" => &mut timeouts.client_fin_ms,
        "server-fin" => &mut timeouts.server_fin_ms,
        "tarpit" => &mut timeouts.tarpit_ms,
        _ => {
            return Err(Diagnostic::error(
                line.words[1].span,
                format!("unknown timeout '{name}'"),
            ));
        }
    };
    *slot = Some(ms);
    Ok(())
}

/// `[no] option <name> ...` for the options lbd acts on. `enabled` is false
/// for `no option`.
pub fn option(
    options: &mut Options,
    line: &LineDecl,
    at: usize,
    enabled: bool,
) -> Result<(), Diagnostic> {
    let name = line.words[at].text.as_str();
    let keyword = format!("option {name}");
    match name {
        "forwardfor" => {
            options.forwardfor = if enabled {
                Some(forwardfor(line, at + 1)?)
            } else {
                None
            };
            return Ok(());
        }
        "http-keep-alive" | "http-server-close" | "httpclose" => {
            let mode = match name {
                "http-server-close" => HttpConnMode::ServerClose,
                "httpclose" => HttpConnMode::Close,
                _ => HttpConnMode::KeepAlive,
            };
            if enabled {
                options.http_conn_mode = mode;
            } else if options.http_conn_mode == mode {
                options.http_conn_mode = HttpConnMode::KeepAlive;
            }
        }
        "redispatch" => {
            // `option redispatch <interval>` is accepted; lbd redispatches on
            // the last retry, as with the default interval.
            options.redispatch = enabled;
            return match line.words.get(at + 1) {
                Some(w) => args::uint(w, &keyword, u64::from(u32::MAX)).map(|_| ()),
                None => Ok(()),
            };
        }
        "httplog" => {
            options.httplog = enabled;
            // `option httplog clf` is accepted.
            if line.words.get(at + 1).is_some_and(|w| w.text == "clf") {
                return args::no_more(line, at + 2, &keyword);
            }
        }
        "tcplog" => options.tcplog = enabled,
        "dontlognull" => options.dontlognull = enabled,
        // lbd splices every tunnel between two plain TCP sockets (global
        // `nosplice` turns it off), which is what these options ask HAProxy
        // to do; HTTP bodies are copied either way.
        "splice-auto" | "splice-request" | "splice-response" => {}
        _ => {}
    }
    args::no_more(line, at + 1, &keyword)
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`.
fn forwardfor(line: &LineDecl, mut i: usize) -> Result<ForwardFor, Diagnostic> {
    let mut ff = ForwardFor {
        except: None,
        header: "X-Forwarded-For".to_string(),
        if_none: false,
    };
    while let Some(word) = line.words.get(i) {
        match word.text.as_str() {
            "except" => {
                let net = required(line, i + 1, "except", "a network")?;
                ff.except = Some(parse_network(net)?);
                i += 2;
            }
            "header" => {
                ff.header = required(line, i + 1, "header", "a header name")?
                    .text
                    .clone();
                i += 2;
            }
            "if-none" => {
                ff.if_none = true;
                i += 1;
            }
            other => {
                return Err(Diagnostic::error(
                    word.span,
                    format!(
                        "'option forwardfor' expects 'except', 'header' or 'if-none', got '{other}'"
                    ),
                ));
            }
        }
    }
    Ok(ff)
}

/// `10.0.0.0/8`, `127.0.0.1` (a /32), `::1/128`.
pub fn parse_network(word: &Word) -> Result<(std::net::IpAddr, u8), Diagnostic> {
    let bad = || Diagnostic::error(word.span, format!("invalid network '{}'", word.text));
    let (ip_text, len_text) = match word.text.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (word.text.as_str(), None),
    };
    let ip: std::net::IpAddr = ip_text.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len_text {
        Some(l) => l.parse::<u8>().ok().filter(|&l| l <= max).ok_or_else(bad)?,
        None => max,
    };
    Ok((ip, len))
}

/// `balance <algorithm> [args]`.
pub fn balance(line: &LineDecl) -> Result<Balance, Diagnostic> {
    let word = required(line, 1, "balance", "an algorithm")?;
    let text = word.text.as_str();
    let balance = match text {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "uri" => return uri_balance(line),
        "url_param" => {
            let name = required(line, 2, "balance url_param", "a parameter name")?;
            if let Some(extra) = line.words.get(3).filter(|w| w.text != "check_post") {
                return Err(Diagnostic::error(
                    extra.span,
                    format!("'balance url_param' does not take '{}'", extra.text),
                ));
            }
            return Ok(Balance::UrlParam {
                name: name.text.clone(),
            });
        }
        "random" => Balance::Random { draws: 2 },
        _ if text.starts_with("random(") => {
            let draws = text
                .strip_prefix("random(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| Diagnostic::error(word.span, format!("invalid 'balance {text}'")))?;
            Balance::Random { draws }
        }
        _ if text.starts_with("hdr(") => {
            let name = text
                .strip_prefix("hdr(")
                .and_then(|r| r.strip_suffix(')'))
                .filter(|n| !n.is_empty())
                .ok_or_else(|| Diagnostic::error(word.span, format!("invalid 'balance {text}'")))?;
            let use_domain_only = line
                .words
                .get(2)
                .is_some_and(|w| w.text == "use_domain_only");
            let used = 2 + usize::from(use_domain_only);
            args::no_more(line, used, "balance hdr")?;
            return Ok(Balance::Hdr {
                name: name.to_string(),
                use_domain_only,
            });
        }
        "rdp-cookie" | "hash" => {
            return Err(Diagnostic::error(
                word.span,
                format!("'balance {text}' is not supported by lbd"),
            ));
        }
        _ if text.starts_with("rdp-cookie(") || text.starts_with("hash(") => {
            return Err(Diagnostic::error(
                word.span,
                format!("'balance {text}' is not supported by lbd"),
            ));
        }
        other => {
            return Err(Diagnostic::error(
                word.span,
                format!("unknown balance algorithm '{other}'"),
            ));
        }
    };
    args::no_more(line, 2, "balance")?;
    Ok(balance)
}

/// `hash-type <method> [<function> [<modifier>]]`.
pub fn hash_type(line: &LineDecl) -> Result<HashType, Diagnostic> {
    let method = required(line, 1, "hash-type", "'map-based' or 'consistent'")?;
    let mut hash = HashType::default();
    match method.text.as_str() {
        "map-based" => {}
        // Without a function, consistent hashing means sdbm and avalanche.
        "consistent" => {
            hash.method = HashMethod::Consistent;
            hash.avalanche = line.words.len() == 2;
        }
        other => {
            return Err(Diagnostic::error(
                method.span,
                format!("'hash-type' expects 'map-based' or 'consistent', got '{other}'"),
            ));
        }
    }
    if let Some(word) = line.words.get(2) {
        hash.function = match word.text.as_str() {
            "sdbm" => HashFunction::Sdbm,
            "djb2" => HashFunction::Djb2,
            "crc32" => HashFunction::Crc32,
            "wt6" => {
                return Err(Diagnostic::error(
                    word.span,
                    "hash function 'wt6' is not supported by lbd",
                ));
            }
            other => {
                return Err(Diagnostic::error(
                    word.span,
                    format!(
                        "'hash-type' expects a hash function ('sdbm', 'djb2', 'crc32'), got '{other}'"
                    ),
                ));
            }
        };
    }
    if let Some(word) = line.words.get(3) {
        if word.text != "avalanche" {
            return Err(Diagnostic::error(
                word.span,
                format!(
                    "'hash-type' expects the modifier 'avalanche', got '{}'",
                    word.text
                ),
            ));
        }
        hash.avalanche = true;
    }
    args::no_more(line, 4, "hash-type")?;
    Ok(hash)
}

/// `balance uri [whole] [len <n>] [depth <n>]`.
fn uri_balance(line: &LineDecl) -> Result<Balance, Diagnostic> {
    let (mut whole, mut len, mut depth) = (false, 0, 0);
    let mut i = 2;
    while let Some(word) = line.words.get(i) {
        match word.text.as_str() {
            "whole" => whole = true,
            "len" | "depth" => {
                let n = args::uint(
                    required(line, i + 1, &word.text, "a number")?,
                    &word.text,
                    u64::from(u32::MAX),
                )? as u32;
                if word.text == "len" {
                    len = n
                } else {
                    depth = n
                }
                i += 1;
            }
            "path-only" => {
                return Err(Diagnostic::error(
                    word.span,
                    "'balance uri path-only' is not supported by lbd",
                ));
            }
            other => {
                return Err(Diagnostic::error(
                    word.span,
                    format!("'balance uri' does not take '{other}'"),
                ));
            }
        }
        i += 1;
    }
    Ok(Balance::Uri { whole, len, depth })
}

/// `option httpchk [<uri>]` or `option httpchk <method> <uri> [<version>]`.
pub fn httpchk(line: &LineDecl, at: usize) -> Result<(String, String, String), Diagnostic> {
    let rest: Vec<&str> = line.words[at + 1..]
        .iter()
        .map(|w| w.text.as_str())
        .collect();
    let (method, uri, version) = match rest.as_slice() {
        [] => ("OPTIONS", "/", "HTTP/1.0"),
        [uri] => ("OPTIONS", *uri, "HTTP/1.0"),
        [method, uri] => (*method, *uri, "HTTP/1.0"),
        [method, uri, version] => (*method, *uri, *version),
        _ => {
            return Err(Diagnostic::error(
                line.words[at + 4].span,
                "'option httpchk' expects at most a method, a URI and a version",
            ));
        }
    };
    Ok((method.to_string(), uri.to_string(), version.to_string()))
}

/// `http-check expect [!] status <code> | rstatus <re> | string <text>`.
pub fn http_check_expect(line: &LineDecl) -> Result<HttpCheckExpect, Diagnostic> {
    let kind = required(
        line,
        2,
        "http-check expect",
        "'status', 'rstatus' or 'string'",
    )?;
    if kind.text == "!" {
        return Err(Diagnostic::error(
            kind.span,
            "negated 'http-check expect' is not supported by lbd",
        ));
    }
    let value = required(line, 3, "http-check expect", "a value")?;
    args::no_more(line, 4, "http-check expect")?;
    match kind.text.as_str() {
        "status" => value
            .text
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(HttpCheckExpect::Status)
            .ok_or_else(|| {
                Diagnostic::error(
                    value.span,
                    format!(
                        "'http-check expect status' expects a status code, got '{}'",
                        value.text
                    ),
                )
            }),
        "rstatus" => Ok(HttpCheckExpect::StatusRegex(value.text.clone())),
        "string" => Ok(HttpCheckExpect::BodyContains(value.text.clone())),
        other => Err(Diagnostic::error(
            kind.span,
            format!(
                "'http-check expect {other}' is not supported by lbd (expects 'status', 'rstatus' or 'string')"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::program::{HashFunction, HashMethod, HashType};
    use crate::config::parse_str;

    /// Compiles a backend with `line` (and `defaults` lines first); its
    /// `hash_type`, or the error messages.
    fn hash_type_of(defaults: &str, line: &str) -> Result<HashType, Vec<String>> {
        let text = format!(
            "defaults\n    mode http\n{defaults}\nbackend b\n    balance source\n{line}\n    server s 127.0.0.1:80\n"
        );
        let loaded = parse_str("t.cfg", &text);
        let compiled = crate::compile::compile(&loaded.config, &loaded.source_map);
        match compiled.program {
            Some(p) => Ok(p.proxies[0].hash_type),
            None => Err(compiled
                .diagnostics
                .into_iter()
                .map(|d| d.message)
                .collect()),
        }
    }

    #[test]
    fn hash_type_map_based_with_function_and_avalanche() {
        let ht = |function, avalanche| HashType {
            method: HashMethod::MapBased,
            function,
            avalanche,
        };
        assert_eq!(hash_type_of("", ""), Ok(HashType::default()));
        assert_eq!(
            hash_type_of("", "    hash-type map-based"),
            Ok(ht(HashFunction::Sdbm, false))
        );
        assert_eq!(
            hash_type_of("", "    hash-type map-based djb2"),
            Ok(ht(HashFunction::Djb2, false))
        );
        assert_eq!(
            hash_type_of("    hash-type map-based crc32 avalanche", ""),
            Ok(ht(HashFunction::Crc32, true))
        );
    }

    #[test]
    fn hash_type_consistent_defaults_to_sdbm_with_avalanche() {
        let ht = |function, avalanche| HashType {
            method: HashMethod::Consistent,
            function,
            avalanche,
        };
        assert_eq!(
            hash_type_of("", "    hash-type consistent"),
            Ok(ht(HashFunction::Sdbm, true))
        );
        // A function named without the modifier: no avalanche (as HAProxy).
        assert_eq!(
            hash_type_of("", "    hash-type consistent djb2"),
            Ok(ht(HashFunction::Djb2, false))
        );
        assert_eq!(
            hash_type_of("", "    hash-type consistent sdbm avalanche"),
            Ok(ht(HashFunction::Sdbm, true))
        );
    }

    #[test]
    fn hash_type_refuses_what_lbd_does_not_implement() {
        let err = |line: &str| hash_type_of("", line).err().unwrap_or_default();
        assert_eq!(
            err("    hash-type map-based wt6"),
            ["hash function 'wt6' is not supported by lbd"]
        );
        // HAProxy 2.6 also wants the function before the modifier.
        assert_eq!(
            err("    hash-type map-based avalanche"),
            ["'hash-type' expects a hash function ('sdbm', 'djb2', 'crc32'), got 'avalanche'"]
        );
        assert_eq!(
            err("    hash-type map-based sdbm avalanche x"),
            ["'hash-type' takes no more arguments, got 'x'"]
        );
    }
}
