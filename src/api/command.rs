//! From a request line to commands: splitting on `;`, words with backslash
//! escapes, and the command table (one row per command: usage, help text,
//! level, handler). `help`, the "unknown command" suggestions and dispatch
//! all read the same rows.
//!
//! The table lists every command of HAProxy 2.6's `help`, in its words, so
//! that `help` and the suggestions read exactly as HAProxy's do. Rows
//! without a handler are commands lbd does not run; they answer
//! [`messages::NOT_SUPPORTED`].

use std::sync::Arc;

use super::Ctx;
use super::exec;
use super::messages;
use crate::compile::program::Level;
use crate::stick::{Filter, Table};

/// What one client connection remembers between commands.
#[derive(Debug, Clone)]
pub struct Session {
    pub level: Level,
    /// Interactive mode: answers end with `\n> ` and the connection stays.
    pub prompt: bool,
    /// Idle timeout of this connection (`set timeout cli`).
    pub timeout_ms: u64,
}

/// What a command produced.
pub enum Outcome {
    /// Text to send, then the terminator.
    Text(String),
    /// `show table <t> [filter]`: the header, then entry lines produced in
    /// bounded batches while writing. `skip_if_empty`: a key lookup that
    /// finds nothing prints nothing at all (not even the header).
    Dump {
        table: Arc<Table>,
        filter: Filter,
        skip_if_empty: bool,
    },
    /// `quit`: close now, print nothing.
    Quit,
}

impl Outcome {
    pub fn text(s: impl Into<String>) -> Outcome {
        Outcome::Text(s.into())
    }

    /// A silent success: only the terminator is sent.
    pub fn done() -> Outcome {
        Outcome::Text(String::new())
    }
}

pub type Handler = fn(&Ctx, &mut Session, &[String]) -> Outcome;

/// One command.
pub struct Row {
    /// Words and arguments as `help` shows them (`show table <table> ...`).
    pub usage: &'static str,
    pub help: &'static str,
    /// Lowest session level allowed to run it.
    pub level: Level,
    /// `None`: listed for compatibility, not run by lbd.
    pub handler: Option<Handler>,
}

impl Row {
    /// The command's own words: the usage up to its first argument.
    pub fn words(&self) -> impl Iterator<Item = &'static str> {
        self.usage
            .split_whitespace()
            .take_while(|w| !w.starts_with(['<', '[', '(', '{']))
    }

    /// `  <usage padded to 40>: <help>\n`.
    fn help_line(&self, out: &mut String) {
        out.push_str(&format!("  {:<40}: {}\n", self.usage, self.help));
    }

    /// How many leading words of `args` equal this row's words, if all of
    /// the row's words match.
    fn matches(&self, args: &[String]) -> bool {
        self.words()
            .enumerate()
            .all(|(n, w)| args.get(n).map(String::as_str) == Some(w))
    }

    fn is_always_shown(&self) -> bool {
        matches!(self.usage, "help [<command>]" | "prompt" | "quit")
    }
}

const fn row(
    usage: &'static str,
    help: &'static str,
    level: Level,
    handler: Option<Handler>,
) -> Row {
    Row {
        usage,
        help,
        level,
        handler,
    }
}

/// Splits one request line into commands on unescaped `;`. Escapes are
/// kept for [`words`].
pub fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, b) in line.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b';' => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

/// Splits a command into words on runs of spaces and tabs; a backslash
/// makes the next character literal (`bob\ smith`, `\;`, `\\`).
pub fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    cur.push(next);
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Runs a whole request line at once and returns everything the client
/// would read, terminators included, and whether the connection stays
/// open. The socket does the same, writing as it goes.
pub fn answer_line(ctx: &Ctx, session: &mut Session, line: &str) -> (String, bool) {
    let mut out = String::new();
    for cmd in split_commands(line) {
        match run(ctx, session, &words(cmd)) {
            Outcome::Quit => return (out, false),
            Outcome::Text(text) => out.push_str(&text),
            Outcome::Dump {
                table,
                filter,
                skip_if_empty,
            } => {
                let now = crate::clock::now_ms();
                let mut dump = table.dump(filter, now);
                if !(skip_if_empty && dump.is_empty()) {
                    table.show_header(&mut out, now);
                    while dump.next_batch(&mut out, 256, now) {}
                }
            }
        }
        out.push_str(if session.prompt { "\n> " } else { "\n" });
    }
    (out, true)
}

/// Runs one command (already split into words) for `session`.
pub fn run(ctx: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    let Some(row) = ROWS.iter().find(|r| r.matches(args)) else {
        return Outcome::Text(usage(args, false));
    };
    if session.level < row.level {
        return Outcome::text(messages::PERMISSION_DENIED);
    }
    match row.handler {
        Some(handler) => handler(ctx, session, args),
        None => Outcome::text(messages::NOT_SUPPORTED),
    }
}

/// The list `help` prints (`is_help`), or the "unknown command" answer
/// with the commands closest to `args`.
pub fn usage(args: &[String], is_help: bool) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let listed = ROWS.iter().filter(|r| !r.is_always_shown());
    // How many leading words some command shares exactly with the input.
    let length = listed
        .clone()
        .map(|r| common_prefix(r, &args))
        .max()
        .unwrap_or(0);
    let mut out = String::from(if is_help {
        messages::HELP_HEADER
    } else if length == 0 && args.first().is_none_or(|a| a.is_empty()) {
        messages::UNKNOWN_EMPTY
    } else {
        messages::UNKNOWN_SIMILAR
    });
    // Candidates share those words; the rest is compared fuzzily.
    let prefixed: Vec<&Row> = listed
        .filter(|r| common_prefix(r, &args) >= length)
        .collect();
    let mut entries = match args.get(length) {
        Some(rest) if !rest.is_empty() => closest(&prefixed, &args[length..], length),
        _ => Vec::new(),
    };
    if entries.is_empty() {
        entries = prefixed;
    }
    entries.sort_by_key(|r| r.usage);
    for r in entries
        .into_iter()
        .chain(ROWS.iter().filter(|r| r.is_always_shown()))
    {
        r.help_line(&mut out);
    }
    out
}

/// Leading words of `args` equal to the row's words.
fn common_prefix(row: &Row, args: &[&str]) -> usize {
    row.words().zip(args).take_while(|(w, a)| w == *a).count()
}

/// At most 5 rows whose remaining words look most like the remaining input
/// (bigram fingerprints, as HAProxy's CLI does), dropping unlikely ones.
fn closest<'r>(rows: &[&'r Row], rest: &[&str], skip: usize) -> Vec<&'r Row> {
    const MAX: usize = 5;
    let mut best: Vec<(usize, &Row)> = Vec::with_capacity(MAX + 1);
    let mut input = Fingerprint::default();
    let mut input_len = 0;
    for w in rest {
        input.add(w);
        input_len += w.len();
    }
    for r in rows {
        let mut fp = Fingerprint::default();
        let mut total = input_len;
        for w in r.words().skip(skip) {
            fp.add(w);
            total += w.len();
        }
        let dist = input.distance(&fp);
        let worst = best.get(MAX - 1).map_or(usize::MAX, |b| b.0);
        if dist < 5 * total / 2 && dist < worst {
            let at = best.partition_point(|b| b.0 <= dist);
            best.insert(at, (dist, r));
            best.truncate(MAX);
        }
    }
    let Some(first) = best.first().map(|b| b.0) else {
        return Vec::new();
    };
    best.into_iter()
        .take_while(|b| b.0 <= 5 * first / 2)
        .map(|b| b.1)
        .collect()
}

/// Counts of letter-class bigrams of words (with begin and end marks).
struct Fingerprint([u8; 1024]);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint([0; 1024])
    }
}

impl Fingerprint {
    fn add(&mut self, word: &str) {
        // Classes: 1..=26 letters, 27 digits, 28 anything else and the
        // word's edges. Row 0 marks which classes occur at all.
        const EDGE: usize = 28;
        let mut from = EDGE;
        for b in word.bytes() {
            let to = match b.to_ascii_lowercase() {
                c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
                b'0'..=b'9' => 27,
                _ => EDGE,
            };
            self.0[to] = 1;
            self.0[32 * from + to] = self.0[32 * from + to].wrapping_add(1);
            from = to;
        }
        self.0[32 * from + EDGE] = self.0[32 * from + EDGE].wrapping_add(1);
    }

    fn distance(&self, other: &Fingerprint) -> usize {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum()
    }
}

/// Every command of HAProxy 2.6's CLI, in `help` order.
pub static ROWS: &[Row] = &[
    row(
        "abort ssl ca-file <cafile>",
        "abort a transaction for a CA file",
        Level::User,
        None,
    ),
    row(
        "abort ssl cert <certfile>",
        "abort a transaction for a certificate file",
        Level::User,
        None,
    ),
    row(
        "abort ssl crl-file <crlfile>",
        "abort a transaction for a CRL file",
        Level::User,
        None,
    ),
    row(
        "add acl [@<ver>] <acl> <pattern>",
        "add an acl entry",
        Level::User,
        None,
    ),
    row(
        "add map [@<ver>] <map> <key> <val>",
        "add a map entry (payload supported instead of key/val)",
        Level::User,
        None,
    ),
    row(
        "add server <bk>/<srv>",
        "create a new server",
        Level::User,
        None,
    ),
    row(
        "add ssl crt-list <list> <cert> [opts]*",
        "add to crt-list file <list> a line <cert> or a payload",
        Level::User,
        None,
    ),
    row(
        "clear acl [@<ver>] <acl>",
        "clear the contents of this acl",
        Level::User,
        None,
    ),
    row(
        "clear counters [all]",
        "clear max statistics counters (or all counters)",
        Level::Operator,
        Some(exec::clear_counters),
    ),
    row(
        "clear map [@<ver>] <map>",
        "clear the contents of this map",
        Level::User,
        None,
    ),
    row(
        "clear table <table> [<filter>]*",
        "remove an entry from a table (filter: data/key)",
        Level::Operator,
        Some(exec::clear_table),
    ),
    row(
        "commit acl @<ver> <acl>",
        "commit the ACL at this version",
        Level::User,
        None,
    ),
    row(
        "commit map @<ver> <map>",
        "commit the map at this version",
        Level::User,
        None,
    ),
    row(
        "commit ssl ca-file <cafile>",
        "commit a CA file",
        Level::User,
        None,
    ),
    row(
        "commit ssl cert <certfile>",
        "commit a certificate file",
        Level::User,
        None,
    ),
    row(
        "commit ssl crl-file <crlfile>",
        "commit a CRL file",
        Level::User,
        None,
    ),
    row(
        "del acl <acl> [<key>|#<ref>]",
        "delete acl entries matching <key>",
        Level::User,
        None,
    ),
    row(
        "del map <map> [<key>|#<ref>]",
        "delete map entries matching <key>",
        Level::User,
        None,
    ),
    row(
        "del server <bk>/<srv>",
        "remove a dynamically added server",
        Level::User,
        None,
    ),
    row(
        "del ssl ca-file <cafile>",
        "delete an unused CA file",
        Level::User,
        None,
    ),
    row(
        "del ssl cert <certfile>",
        "delete an unused certificate file",
        Level::User,
        None,
    ),
    row(
        "del ssl crl-file <crlfile>",
        "delete an unused CRL file",
        Level::User,
        None,
    ),
    row(
        "del ssl crt-list <list> <cert[:line]>",
        "delete a line <cert> from crt-list file <list>",
        Level::User,
        None,
    ),
    row("disable agent", "disable agent checks", Level::User, None),
    row(
        "disable dynamic-cookie backend <bk>",
        "disable dynamic cookies on a specific backend",
        Level::User,
        None,
    ),
    row(
        "disable frontend <frontend>",
        "temporarily disable specific frontend",
        Level::Admin,
        Some(exec::disable_frontend),
    ),
    row("disable health", "disable health checks", Level::User, None),
    row(
        "disable server (DEPRECATED)",
        "disable a server for maintenance (use 'set server' instead)",
        Level::Admin,
        Some(exec::disable_server),
    ),
    row("enable agent", "enable agent checks", Level::User, None),
    row(
        "enable dynamic-cookie backend <bk>",
        "enable dynamic cookies on a specific backend",
        Level::User,
        None,
    ),
    row(
        "enable frontend <frontend>",
        "re-enable specific frontend",
        Level::Admin,
        Some(exec::enable_frontend),
    ),
    row("enable health", "enable health checks", Level::User, None),
    row(
        "enable server  (DEPRECATED)",
        "enable a disabled server (use 'set server' instead)",
        Level::Admin,
        Some(exec::enable_server),
    ),
    row(
        "get acl <acl> <value>",
        "report the patterns matching a sample for an ACL",
        Level::User,
        None,
    ),
    row(
        "get map <acl> <value>",
        "report the keys and values matching a sample for a map",
        Level::User,
        None,
    ),
    row(
        "get var <name>",
        "retrieve contents of a process-wide variable",
        Level::User,
        None,
    ),
    row(
        "get weight <bk>/<srv>",
        "report a server's current weight",
        Level::User,
        Some(exec::get_weight),
    ),
    row(
        "new ssl ca-file <cafile>",
        "create a new CA file to be used in a crt-list",
        Level::User,
        None,
    ),
    row(
        "new ssl cert <certfile>",
        "create a new certificate file to be used in a crt-list or a directory",
        Level::User,
        None,
    ),
    row(
        "new ssl crlfile <crlfile>",
        "create a new CRL file to be used in a crt-list",
        Level::User,
        None,
    ),
    row(
        "operator",
        "lower the level of the current CLI session to operator",
        Level::Operator,
        Some(exec::lower_to_operator),
    ),
    row(
        "prepare acl <acl>",
        "prepare a new version for atomic ACL replacement",
        Level::User,
        None,
    ),
    row(
        "prepare map <acl>",
        "prepare a new version for atomic map replacement",
        Level::User,
        None,
    ),
    row(
        "set dynamic-cookie-key backend <bk> <k>",
        "change a backend secret key for dynamic cookies",
        Level::User,
        None,
    ),
    row(
        "set map <map> [<key>|#<ref>] <value>",
        "modify a map entry",
        Level::User,
        None,
    ),
    row(
        "set maxconn frontend <frontend> <value>",
        "change a frontend's maxconn setting",
        Level::User,
        None,
    ),
    row(
        "set maxconn global <value>",
        "change the per-process maxconn setting",
        Level::User,
        None,
    ),
    row(
        "set maxconn server <bk>/<srv>",
        "change a server's maxconn setting",
        Level::User,
        None,
    ),
    row(
        "set profiling <what> {auto|on|off}",
        "enable/disable resource profiling (tasks,memory)",
        Level::User,
        None,
    ),
    row(
        "set rate-limit <setting> <value>",
        "change a rate limiting value",
        Level::User,
        None,
    ),
    row(
        "set server <bk>/<srv> [opts]",
        "change a server's state, weight, address or ssl",
        Level::Admin,
        Some(exec::set_server),
    ),
    row(
        "set severity-output [none|number|string]",
        "set presence of severity level in feedback information",
        Level::User,
        None,
    ),
    row(
        "set ssl ca-file <cafile> <payload>",
        "replace a CA file",
        Level::User,
        None,
    ),
    row(
        "set ssl cert <certfile> <payload>",
        "replace a certificate file",
        Level::User,
        None,
    ),
    row(
        "set ssl crl-file <crlfile> <payload>",
        "replace a CRL file",
        Level::User,
        None,
    ),
    row(
        "set ssl ocsp-response <resp|payload>",
        "update a certificate's OCSP Response from a base64-encode DER",
        Level::User,
        None,
    ),
    row(
        "set ssl tls-key [id|file] <key>",
        "set the next TLS key for the <id> or <file> listener to <key>",
        Level::User,
        None,
    ),
    row(
        "set table <table> key <k> [data.* <v>]*",
        "update or create a table entry's data",
        Level::Operator,
        Some(exec::set_table),
    ),
    row(
        "set timeout [cli] <delay>",
        "change a timeout setting",
        Level::User,
        Some(exec::set_timeout),
    ),
    row(
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (use 'set server' instead)",
        Level::Admin,
        Some(exec::set_weight),
    ),
    row(
        "show acl [@<ver>] <acl>]",
        "report available acls or dump an acl's contents",
        Level::User,
        None,
    ),
    row(
        "show activity",
        "show per-thread activity stats (for support/developers)",
        Level::User,
        None,
    ),
    row(
        "show backend",
        "list backends in the current running config",
        Level::User,
        Some(exec::show_backend),
    ),
    row("show cache", "show cache status", Level::User, None),
    row(
        "show cli level",
        "display the level of the current CLI session",
        Level::User,
        Some(exec::show_cli_level),
    ),
    row(
        "show cli sockets",
        "dump list of cli sockets",
        Level::User,
        Some(exec::show_cli_sockets),
    ),
    row(
        "show env [var]",
        "dump environment variables known to the process",
        Level::User,
        None,
    ),
    row(
        "show errors [<px>] [request|response]",
        "report last request and/or response errors for each proxy",
        Level::Operator,
        Some(exec::show_errors),
    ),
    row(
        "show events [<sink>] [-w] [-n]",
        "show event sink state",
        Level::User,
        None,
    ),
    row(
        "show fd [num]",
        "dump list of file descriptors in use or a specific one",
        Level::User,
        None,
    ),
    row(
        "show info [desc|json|typed|float]*",
        "report information about the running process",
        Level::User,
        Some(exec::show_info),
    ),
    row(
        "show libs",
        "show loaded object files and libraries",
        Level::User,
        None,
    ),
    row(
        "show map [@ver] [map]",
        "report available maps or dump a map's contents",
        Level::User,
        None,
    ),
    row(
        "show peers [dict|-] [section]",
        "dump some information about all the peers or this peers section",
        Level::User,
        None,
    ),
    row(
        "show pools",
        "report information about the memory pools usage",
        Level::User,
        None,
    ),
    row(
        "show profiling [<what>|<#lines>|byaddr]*",
        "show profiling state (all,status,tasks,memory)",
        Level::User,
        None,
    ),
    row(
        "show resolvers [id]",
        "dumps counters from all resolvers section and associated name servers",
        Level::User,
        None,
    ),
    row(
        "show schema json",
        "report schema used for stats",
        Level::User,
        None,
    ),
    row(
        "show servers conn [<backend>]",
        "dump server connections status (all or for a single backend)",
        Level::User,
        None,
    ),
    row(
        "show servers state [<backend>]",
        "dump volatile server information (all or for a single backend)",
        Level::User,
        Some(exec::show_servers_state),
    ),
    row(
        "show sess [id]",
        "report the list of current sessions or dump this exact session",
        Level::Operator,
        Some(exec::show_sess),
    ),
    row(
        "show ssl ca-file [<cafile>[:<index>]]",
        "display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>",
        Level::User,
        None,
    ),
    row(
        "show ssl cert [<certfile>]",
        "display the SSL certificates used in memory, or the details of a file",
        Level::User,
        None,
    ),
    row(
        "show ssl crl-file [<crlfile[:<index>>]]",
        "display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>",
        Level::User,
        None,
    ),
    row(
        "show ssl crt-list [-n] [<list>]",
        "show the list of crt-lists or the content of a crt-list file <list>",
        Level::User,
        None,
    ),
    row(
        "show ssl ocsp-response [id]",
        "display the IDs of the OCSP responses used in memory, or the details of a single OCSP response",
        Level::User,
        None,
    ),
    row(
        "show ssl providers",
        "show loaded SSL providers",
        Level::User,
        None,
    ),
    row(
        "show startup-logs",
        "report logs emitted during HAProxy startup",
        Level::User,
        None,
    ),
    row(
        "show stat [desc|json|no-maint|typed|up]*",
        "report counters for each proxy and server",
        Level::User,
        Some(exec::show_stat),
    ),
    row(
        "show table <table> [<filter>]*",
        "report table usage stats or dump this table's contents (filter: data/key)",
        Level::User,
        Some(exec::show_table),
    ),
    row("show tasks", "show running tasks", Level::User, None),
    row(
        "show threads",
        "show some threads debugging information",
        Level::User,
        None,
    ),
    row(
        "show tls-keys [id|*]",
        "show tls keys references or dump tls ticket keys when id specified",
        Level::User,
        None,
    ),
    row(
        "show trace [<module>]",
        "show live tracing state",
        Level::User,
        None,
    ),
    row(
        "show version",
        "show version of the current process",
        Level::User,
        Some(exec::show_version),
    ),
    row(
        "shutdown frontend <frontend>",
        "stop a specific frontend",
        Level::User,
        None,
    ),
    row(
        "shutdown session [id]",
        "kill a specific session",
        Level::User,
        None,
    ),
    row(
        "shutdown sessions server <bk>/<srv>",
        "kill sessions on a server",
        Level::Admin,
        Some(exec::shutdown_sessions),
    ),
    row(
        "trace [<module>|0] [cmd [args...]]",
        "manage live tracing (empty to list, 0 to stop all)",
        Level::User,
        None,
    ),
    row(
        "user",
        "lower the level of the current CLI session to user",
        Level::User,
        Some(exec::lower_to_user),
    ),
    row(
        "help [<command>]",
        "list matching or all commands",
        Level::User,
        Some(exec::help),
    ),
    row(
        "prompt",
        "toggle interactive mode with prompt",
        Level::User,
        Some(exec::prompt),
    ),
    row("quit", "disconnect", Level::User, Some(exec::quit)),
];

#[cfg(test)]
mod tests;
