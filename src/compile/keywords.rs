//! The keyword tables: every keyword HAProxy 2.6 knows in a proxy or the
//! global section, the sections that take it, and whether lbd supports it.
//!
//! Parsing, "did you mean", "not supported by lbd" errors and the README's
//! keyword list all read these rows.

/// Bits of the sections a proxy keyword may appear in.
pub const DEFAULTS: u8 = 1;
pub const FRONTEND: u8 = 2;
pub const LISTEN: u8 = 4;
pub const BACKEND: u8 = 8;
const ALL: u8 = DEFAULTS | FRONTEND | LISTEN | BACKEND;
/// Keywords of the frontend side.
const FE: u8 = DEFAULTS | FRONTEND | LISTEN;
/// Keywords of the backend side.
const BE: u8 = DEFAULTS | LISTEN | BACKEND;
/// Frontend side, but not in defaults.
const FE_ONLY: u8 = FRONTEND | LISTEN;
/// Backend side, but not in defaults.
const BE_ONLY: u8 = LISTEN | BACKEND;
/// Both sides, but not in defaults.
const PX_ONLY: u8 = FRONTEND | LISTEN | BACKEND;

/// Whether lbd acts on a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Parsed and acted on.
    Supported,
    /// HAProxy knows it; lbd reports it as not supported.
    NotSupported,
    /// HAProxy 2.6 itself rejects it; the text says what to use instead.
    Removed(&'static str),
}

/// One row of a keyword table.
#[derive(Debug, Clone, Copy)]
pub struct KeywordRow {
    /// The keyword, possibly two words (`option forwardfor`, `timeout client`).
    pub name: &'static str,
    /// The sections that take it (`DEFAULTS | FRONTEND | ...`); unused for global.
    pub sections: u8,
    pub support: Support,
}

const fn row(name: &'static str, sections: u8, support: Support) -> KeywordRow {
    KeywordRow {
        name,
        sections,
        support,
    }
}

use Support::{NotSupported as No, Removed, Supported as Yes};

/// Proxy keywords (defaults, frontend, listen, backend), from HAProxy 2.6's
/// keyword matrix.
pub static PROXY_KEYWORDS: &[KeywordRow] = &[
    row("acl", ALL, Yes),
    row("backlog", FE, No),
    row("balance", BE, Yes),
    row("bind", FE_ONLY, Yes),
    row("capture cookie", FE_ONLY, No),
    row("capture request", FE_ONLY, No),
    row("capture response", FE_ONLY, No),
    row("clitcpka-cnt", FE, No),
    row("clitcpka-idle", FE, No),
    row("clitcpka-intvl", FE, No),
    row("compression", ALL, Yes),
    row("cookie", BE, No),
    row("declare capture", FE_ONLY, No),
    row("default-server", BE, Yes),
    row("default_backend", FE, Yes),
    row("description", PX_ONLY, Yes),
    row("disabled", ALL, Yes),
    row("dispatch", BE_ONLY, No),
    row("email-alert", ALL, No),
    row("enabled", ALL, Yes),
    row("errorfile", ALL, Yes),
    row("errorfiles", ALL, No),
    row("errorloc", ALL, No),
    row("errorloc302", ALL, No),
    row("errorloc303", ALL, No),
    row("error-log-format", FE, No),
    row("force-persist", BE_ONLY, No),
    row("filter", PX_ONLY, No),
    row("fullconn", BE, No),
    row("hash-type", BE, Yes),
    row("http-after-response", ALL, No),
    row("http-check comment", BE, No),
    row("http-check connect", BE, No),
    row("http-check disable-on-404", BE, No),
    row("http-check expect", BE, Yes),
    row("http-check send", BE, No),
    row("http-check send-state", BE, No),
    row("http-check set-var", BE, No),
    row("http-check unset-var", BE, No),
    row("http-error", ALL, No),
    row("http-request", ALL, Yes),
    row("http-response", ALL, Yes),
    row("http-reuse", BE, No),
    row("http-send-name-header", BE, No),
    row("id", PX_ONLY, Yes),
    row("ignore-persist", BE_ONLY, No),
    row("load-server-state-from-file", BE, No),
    row("log", ALL, Yes),
    row("log-format", FE, No),
    row("log-format-sd", FE, No),
    row("log-tag", ALL, No),
    row("max-keep-alive-queue", BE, No),
    row("maxconn", FE, Yes),
    row("mode", ALL, Yes),
    row("monitor fail", FE_ONLY, No),
    row("monitor-uri", FE, No),
    row("option abortonclose", BE, No),
    row("option accept-invalid-http-request", FE, No),
    row("option accept-invalid-http-response", BE, No),
    row("option allbackups", BE, No),
    row("option checkcache", BE, No),
    row("option clitcpka", FE, No),
    row("option contstats", FE, No),
    row("option disable-h2-upgrade", FE, No),
    row("option dontlog-normal", FE, No),
    row("option dontlognull", FE, Yes),
    row("option forwardfor", ALL, Yes),
    row("option h1-case-adjust-bogus-client", FE, No),
    row("option h1-case-adjust-bogus-server", BE, No),
    row("option http-buffer-request", ALL, No),
    row("option http-ignore-probes", FE, No),
    row("option http-keep-alive", ALL, Yes),
    row("option http-no-delay", ALL, No),
    row("option http-pretend-keepalive", BE, No),
    row("option http-restrict-req-hdr-names", ALL, No),
    row("option http-server-close", ALL, Yes),
    row("option http-use-proxy-header", FE, No),
    row("option httpchk", BE, Yes),
    row("option httpclose", ALL, Yes),
    row("option httplog", FE, Yes),
    row("option httpslog", FE, No),
    row("option independent-streams", ALL, No),
    row("option ldap-check", BE, No),
    row("option external-check", BE, No),
    row("option log-health-checks", BE, No),
    row("option log-separate-errors", FE, No),
    row("option logasap", FE, No),
    row("option mysql-check", BE, No),
    row("option nolinger", ALL, No),
    row("option originalto", ALL, No),
    row("option persist", BE, No),
    row("option pgsql-check", BE, No),
    row("option prefer-last-server", BE, No),
    row("option redispatch", BE, Yes),
    row("option redis-check", BE, No),
    row("option smtpchk", BE, No),
    row("option socket-stats", FE, No),
    row("option splice-auto", ALL, Yes),
    row("option splice-request", ALL, Yes),
    row("option splice-response", ALL, Yes),
    row("option spop-check", BE, No),
    row("option srvtcpka", BE, No),
    row("option ssl-hello-chk", BE, No),
    row("option tcp-check", BE, No),
    row("option tcp-smart-accept", FE, No),
    row("option tcp-smart-connect", BE, No),
    row("option tcpka", ALL, No),
    row("option tcplog", ALL, Yes),
    row("option transparent", BE, No),
    row("option idle-close-on-response", FE, No),
    row("external-check command", BE, No),
    row("external-check path", BE, No),
    row("persist rdp-cookie", BE, No),
    row("rate-limit sessions", FE, No),
    row("redirect", PX_ONLY, No),
    row("retries", BE, Yes),
    row("retry-on", BE, No),
    row("server", BE_ONLY, Yes),
    row("server-state-file-name", BE, No),
    row("server-template", BE_ONLY, No),
    row("source", BE, No),
    row("srvtcpka-cnt", BE, No),
    row("srvtcpka-idle", BE, No),
    row("srvtcpka-intvl", BE, No),
    row("stats admin", PX_ONLY, No),
    row("stats auth", ALL, Yes),
    row("stats enable", ALL, Yes),
    row("stats hide-version", ALL, Yes),
    row("stats http-request", PX_ONLY, No),
    row("stats realm", ALL, Yes),
    row("stats refresh", ALL, Yes),
    row("stats scope", ALL, No),
    row("stats show-desc", ALL, No),
    row("stats show-legends", ALL, No),
    row("stats show-modules", ALL, No),
    row("stats show-node", ALL, No),
    row("stats uri", ALL, Yes),
    row("stick match", BE_ONLY, No),
    row("stick on", BE_ONLY, No),
    row("stick store-request", BE_ONLY, No),
    row("stick store-response", BE_ONLY, No),
    row("stick-table", PX_ONLY, Yes),
    row("tcp-check", BE, No),
    row("tcp-request connection", ALL & !BACKEND, Yes),
    row("tcp-request content", ALL, Yes),
    row("tcp-request inspect-delay", ALL, Yes),
    row("tcp-request session", ALL & !BACKEND, No),
    row("tcp-response content", BE, No),
    row("tcp-response inspect-delay", BE, No),
    row("timeout check", BE, Yes),
    row("timeout client", FE, Yes),
    row("timeout client-fin", FE, Yes),
    row("timeout connect", BE, Yes),
    row("timeout http-keep-alive", ALL, Yes),
    row("timeout http-request", ALL, Yes),
    row("timeout queue", BE, Yes),
    row("timeout server", BE, Yes),
    row("timeout server-fin", BE, Yes),
    row("timeout tarpit", ALL, Yes),
    row("timeout tunnel", BE, Yes),
    row("transparent", BE, Removed("use 'option transparent'")),
    row("unique-id-format", FE, No),
    row("unique-id-header", FE, No),
    row("use_backend", FE_ONLY, Yes),
    row("use-fcgi-app", BE_ONLY, No),
    row("use-server", BE_ONLY, No),
    row("contimeout", ALL, Removed("use 'timeout connect'")),
    row("clitimeout", ALL, Removed("use 'timeout client'")),
    row("srvtimeout", ALL, Removed("use 'timeout server'")),
    row("reqadd", ALL, Removed("use 'http-request add-header'")),
    row("reqdel", ALL, Removed("use 'http-request del-header'")),
    row("reqrep", ALL, Removed("use 'http-request replace-header'")),
    row("rspadd", ALL, Removed("use 'http-response add-header'")),
    row("rspdel", ALL, Removed("use 'http-response del-header'")),
    row("block", ALL, Removed("use 'http-request deny'")),
];

/// Keywords whose meaning depends on their second word (`option x`,
/// `timeout x`): a row named `family x` exists for each known second word.
pub const TWO_WORD_FAMILIES: &[&str] = &[
    "option",
    "timeout",
    "stats",
    "http-check",
    "tcp-request",
    "tcp-response",
    "capture",
    "monitor",
    "external-check",
    "persist",
    "rate-limit",
    "stick",
    "declare",
];

/// Global keywords of HAProxy 2.6 (a two-word row for `stats x`).
pub static GLOBAL_KEYWORDS: &[KeywordRow] = &[
    row("daemon", 0, Yes),
    row("maxconn", 0, Yes),
    row("nbthread", 0, Yes),
    row("stats socket", 0, Yes),
    row("stats timeout", 0, Yes),
    row("stats maxconn", 0, Yes),
    row(
        "stats bind-process",
        0,
        Removed("it was removed in HAProxy 2.5"),
    ),
    row("log", 0, Yes),
    row("pidfile", 0, Yes),
    row("user", 0, Yes),
    row("group", 0, Yes),
    row("uid", 0, Yes),
    row("gid", 0, Yes),
    row("tune.bufsize", 0, Yes),
    row("tune.maxrewrite", 0, Yes),
    row("tune.pipesize", 0, Yes),
    row("ssl-default-bind-options", 0, Yes),
    row("ssl-default-bind-ciphers", 0, Yes),
    row("ssl-default-bind-ciphersuites", 0, Yes),
    row("hard-stop-after", 0, Yes),
    row("default-path", 0, Yes),
    row("chroot", 0, No),
    row("ca-base", 0, Yes),
    row("crt-base", 0, Yes),
    row("description", 0, Yes),
    row("node", 0, Yes),
    row("quiet", 0, Yes),
    row("zero-warning", 0, No),
    row("master-worker", 0, No),
    row("nbproc", 0, Removed("use 'nbthread'")),
    row("debug", 0, No),
    row("cpu-map", 0, No),
    row("cluster-secret", 0, No),
    row("expose-experimental-directives", 0, No),
    row("external-check", 0, No),
    row("fd-hard-limit", 0, No),
    row("grace", 0, No),
    row("h1-accept-payload-with-any-method", 0, No),
    row("h1-case-adjust", 0, No),
    row("h1-case-adjust-file", 0, No),
    row("h2-workaround-bogus-websocket-clients", 0, No),
    row("insecure-fork-wanted", 0, No),
    row("insecure-setuid-wanted", 0, No),
    row("issuers-chain-path", 0, No),
    row("localpeer", 0, No),
    row("log-send-hostname", 0, No),
    row("log-tag", 0, No),
    row("lua-load", 0, No),
    row("lua-load-per-thread", 0, No),
    row("lua-prepend-path", 0, No),
    row("mworker-max-reloads", 0, No),
    row("numa-cpu-mapping", 0, No),
    row("pp2-never-send-local", 0, No),
    row("presetenv", 0, Yes),
    row("resetenv", 0, Yes),
    row("set-dumpable", 0, No),
    row("set-var", 0, No),
    row("setenv", 0, Yes),
    row("ssl-default-bind-curves", 0, No),
    row("ssl-default-server-ciphers", 0, No),
    row("ssl-default-server-ciphersuites", 0, No),
    row("ssl-default-server-options", 0, No),
    row("ssl-dh-param-file", 0, No),
    row("ssl-propquery", 0, No),
    row("ssl-provider", 0, No),
    row("ssl-provider-path", 0, No),
    row("ssl-server-verify", 0, No),
    row("ssl-skip-self-issued-ca", 0, No),
    row("strict-limits", 0, No),
    row("ulimit-n", 0, No),
    row("unix-bind", 0, No),
    row("unsetenv", 0, Yes),
    row("busy-polling", 0, No),
    row("max-spread-checks", 0, No),
    row("maxcompcpuusage", 0, No),
    row("maxcomprate", 0, No),
    row("maxconnrate", 0, No),
    row("maxpipes", 0, Yes),
    row("maxsessrate", 0, No),
    row("maxsslconn", 0, No),
    row("maxsslrate", 0, No),
    row("maxzlibmem", 0, No),
    row("no-memory-trimming", 0, No),
    row("noepoll", 0, No),
    row("noevports", 0, No),
    row("nogetaddrinfo", 0, No),
    row("nokqueue", 0, No),
    row("nopoll", 0, No),
    row("noreuseport", 0, No),
    row("nosplice", 0, Yes),
    row("profiling.tasks", 0, No),
    row("server-state-base", 0, No),
    row("server-state-file", 0, No),
    row("spread-checks", 0, No),
    row("ssl-engine", 0, No),
    row("ssl-mode-async", 0, No),
    row("ssl-load-extra-files", 0, No),
    row("ssl-load-extra-del-ext", 0, No),
    row("tune.ssl.default-dh-param", 0, Yes),
    row("tune.ssl.cachesize", 0, Yes),
    row("tune.ssl.lifetime", 0, Yes),
    row("tune.http.maxhdr", 0, No),
    row("51degrees-data-file", 0, No),
    row("51degrees-property-name-list", 0, No),
    row("51degrees-property-separator", 0, No),
    row("51degrees-cache-size", 0, No),
    row("deviceatlas-json-file", 0, No),
    row("deviceatlas-log-level", 0, No),
    row("deviceatlas-separator", 0, No),
    row("deviceatlas-properties-cookie", 0, No),
    row("wurfl-data-file", 0, No),
    row("wurfl-information-list", 0, No),
    row("wurfl-information-list-separator", 0, No),
    row("wurfl-cache-size", 0, No),
    row("httpclient.resolvers.id", 0, No),
    row("httpclient.resolvers.prefer", 0, No),
    row("httpclient.ssl.ca-file", 0, No),
    row("httpclient.ssl.verify", 0, No),
];

/// Global keywords lbd does not support that start with `tune.` (one row
/// would be needed per tunable; they all get the same answer).
pub const GLOBAL_TUNE_PREFIX: &str = "tune.";

/// The row for a line, trying the two-word name first for keyword families.
/// One hash lookup: configurations with tens of thousands of lines spend
/// their time here otherwise.
pub fn find(table: &'static [KeywordRow], words: &[&str]) -> Option<&'static KeywordRow> {
    let first = *words.first()?;
    let second = words.get(1).copied();
    let Some(index) = index(table) else {
        // Not one of the two keyword tables: no index, scan it.
        let two = second.map(|s| format!("{first} {s}"));
        return table
            .iter()
            .find(|r| Some(r.name) == two.as_deref())
            .or_else(|| table.iter().find(|r| r.name == first));
    };
    let candidates = index.get(first)?;
    candidates
        .iter()
        .find(|(s, _)| s.is_some() && *s == second)
        .or_else(|| candidates.iter().find(|(s, _)| s.is_none()))
        .map(|&(_, i)| &table[i])
}

/// Rows by first word: (second word of a two-word name, row index).
type Index = ahash::AHashMap<&'static str, Vec<(Option<&'static str>, usize)>>;

fn index(table: &'static [KeywordRow]) -> Option<&'static Index> {
    static PROXY: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    static GLOBAL: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    let cell = if std::ptr::eq(table, PROXY_KEYWORDS) {
        &PROXY
    } else if std::ptr::eq(table, GLOBAL_KEYWORDS) {
        &GLOBAL
    } else {
        return None;
    };
    Some(cell.get_or_init(|| {
        let mut index = Index::new();
        for (i, row) in table.iter().enumerate() {
            let (first, second) = match row.name.split_once(' ') {
                Some((a, b)) => (a, Some(b)),
                None => (row.name, None),
            };
            index.entry(first).or_default().push((second, i));
        }
        index
    }))
}

/// How many words a row's name has.
pub fn word_count(row: &KeywordRow) -> usize {
    row.name.split(' ').count()
}

/// The README's keyword list: every keyword of both tables with its status,
/// generated so that documentation and errors never disagree.
pub fn markdown_list() -> String {
    let mut out = String::new();
    for (title, table) in [("global", GLOBAL_KEYWORDS), ("proxies", PROXY_KEYWORDS)] {
        let status = |s: Support| match s {
            Support::Supported => "supported".to_string(),
            Support::NotSupported => "not supported by lbd".to_string(),
            Support::Removed(instead) => format!("rejected by HAProxy 2.6 too ({instead})"),
        };
        let mut rows: Vec<&KeywordRow> = table.iter().collect();
        rows.sort_by_key(|r| (r.support != Support::Supported, r.name));
        out.push_str(&format!(
            "\n### {title}\n\n| keyword | status |\n|---|---|\n"
        ));
        for r in rows {
            out.push_str(&format!("| `{}` | {} |\n", r.name, status(r.support)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_word_rows_win_over_their_family() {
        let row = find(PROXY_KEYWORDS, &["option", "forwardfor", "except"]);
        assert_eq!(row.map(|r| r.name), Some("option forwardfor"));
        let row = find(PROXY_KEYWORDS, &["timeout", "client", "5s"]);
        assert_eq!(row.map(|r| r.name), Some("timeout client"));
        assert!(find(PROXY_KEYWORDS, &["option", "nosuch"]).is_none());
    }

    #[test]
    fn every_row_names_a_distinct_keyword() {
        for table in [PROXY_KEYWORDS, GLOBAL_KEYWORDS] {
            let mut names: Vec<&str> = table.iter().map(|r| r.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len());
        }
    }
}
