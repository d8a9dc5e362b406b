//! The `global` section.

use std::path::PathBuf;

use super::addr::{self, Addr};
use super::args::{self, Place, keyword_text, required};
use super::cx::{BaseDir, Cx, DefaultPath};
use super::keywords::{self, GLOBAL_KEYWORDS, Support};
use super::log;
use super::program::{Global, Level, StatsSocket};
use super::suggest::best_match;
use crate::config::ast::{LineDecl, SectionDecl, Word};
use crate::config::diag::Diagnostic;

const PLACE: Place<'static> = Place {
    kind: "global",
    name: None,
};

/// Compiles every `global` section (they add up, as in HAProxy).
pub fn compile<'a>(sections: impl Iterator<Item = &'a SectionDecl>, cx: &mut Cx) -> Global {
    let mut global = Global::default();
    for section in sections {
        for line in &section.lines {
            compile_line(&mut global, line, cx);
        }
    }
    global
}

fn compile_line(global: &mut Global, line: &LineDecl, cx: &mut Cx) {
    let words: Vec<&str> = line.words.iter().take(2).map(|w| w.text.as_str()).collect();
    let Some(row) = keywords::find(GLOBAL_KEYWORDS, &words) else {
        if line
            .keyword()
            .text
            .starts_with(keywords::GLOBAL_TUNE_PREFIX)
        {
            let msg = format!("'{}' is not supported by lbd", line.keyword().text);
            cx.report(Diagnostic::error(line.keyword().span, msg));
            return;
        }
        cx.report(unknown(line));
        return;
    };
    let keyword = row.name;
    match row.support {
        Support::NotSupported => {
            let msg = format!("'{keyword}' is not supported by lbd");
            cx.report(Diagnostic::error(line.keyword().span, msg));
            return;
        }
        Support::Removed(instead) => {
            let msg = format!("'{keyword}' is not supported anymore by HAProxy 2.6 ({instead})");
            cx.report(Diagnostic::error(line.keyword().span, msg));
            return;
        }
        Support::Supported => {}
    }
    let result = apply(global, keyword, line, cx);
    cx.check(result);
}

fn unknown(line: &LineDecl) -> Diagnostic {
    let word = line.keyword();
    let names = GLOBAL_KEYWORDS.iter().map(|r| r.name);
    let diag = Diagnostic::error(
        word.span,
        format!("unknown keyword '{}' in {}", word.text, PLACE.describe()),
    );
    match best_match(&word.text, names) {
        Some(m) => diag.with_help(format!("did you mean '{m}'?")),
        None => diag,
    }
}

fn apply(
    global: &mut Global,
    keyword: &str,
    line: &LineDecl,
    cx: &mut Cx,
) -> Result<(), Diagnostic> {
    match keyword {
        "daemon" | "quiet" => {
            global.daemon |= keyword == "daemon";
            args::no_more(line, 1, keyword)
        }
        "maxconn" => {
            global.maxconn = args::uint(
                required(line, 1, keyword, "a number")?,
                keyword,
                u64::from(u32::MAX),
            )? as u32;
            args::no_more(line, 2, keyword)
        }
        "nbthread" => {
            let n = args::uint(
                required(line, 1, keyword, "a number of threads")?,
                keyword,
                4096,
            )?;
            if n == 0 {
                return Err(Diagnostic::error(
                    line.words[1].span,
                    "'nbthread' expects at least 1 thread",
                ));
            }
            global.nbthread = Some(n as u32);
            args::no_more(line, 2, keyword)
        }
        "stats socket" => stats_socket(global, line),
        "stats timeout" => {
            global.stats_timeout_ms = args::time(required(line, 2, keyword, "a time")?, keyword)?;
            args::no_more(line, 3, keyword)
        }
        "stats maxconn" => {
            args::uint(
                required(line, 2, keyword, "a number")?,
                keyword,
                u64::from(u32::MAX),
            )?;
            args::no_more(line, 3, keyword)
        }
        "log" => {
            global.logs.push(log::parse(line, 1, cx.resolve_names)?);
            Ok(())
        }
        "pidfile" => {
            let word = required(line, 1, keyword, "a file name")?;
            global.pidfile = Some(PathBuf::from(&word.text));
            args::no_more(line, 2, keyword)
        }
        "user" | "uid" => {
            global.user = Some(required(line, 1, keyword, "a user")?.text.clone());
            args::no_more(line, 2, keyword)
        }
        "group" | "gid" => {
            global.group = Some(required(line, 1, keyword, "a group")?.text.clone());
            args::no_more(line, 2, keyword)
        }
        "tune.bufsize" => {
            let size = args::size(required(line, 1, keyword, "a size")?, keyword)?;
            if !(1024..=(1 << 30)).contains(&size) {
                return Err(Diagnostic::error(
                    line.words[1].span,
                    "'tune.bufsize' expects a size between 1k and 1g",
                ));
            }
            global.tune_bufsize = size as u32;
            args::no_more(line, 2, keyword)
        }
        "tune.pipesize" => {
            let size = args::size(required(line, 1, keyword, "a size")?, keyword)?;
            global.tune_pipesize = u32::try_from(size).unwrap_or(u32::MAX);
            args::no_more(line, 2, keyword)
        }
        "nosplice" => {
            global.nosplice = true;
            args::no_more(line, 1, keyword)
        }
        "maxpipes" => {
            let word = required(line, 1, keyword, "a number")?;
            global.maxpipes = Some(args::uint(word, keyword, u64::from(u32::MAX))? as u32);
            args::no_more(line, 2, keyword)
        }
        "tune.maxrewrite" => {
            let size = args::size(required(line, 1, keyword, "a size")?, keyword)?;
            global.tune_maxrewrite = u32::try_from(size).unwrap_or(u32::MAX);
            args::no_more(line, 2, keyword)
        }
        "ssl-default-bind-options" => {
            global.ssl_default_bind_options = line.args().iter().map(|w| w.text.clone()).collect();
            Ok(())
        }
        "ssl-default-bind-ciphers" => {
            global.ssl_default_bind_ciphers =
                Some(required(line, 1, keyword, "a cipher list")?.text.clone());
            args::no_more(line, 2, keyword)
        }
        "ssl-default-bind-ciphersuites" => {
            global.ssl_default_bind_ciphersuites = Some(
                required(line, 1, keyword, "a cipher suite list")?
                    .text
                    .clone(),
            );
            args::no_more(line, 2, keyword)
        }
        "hard-stop-after" => {
            global.hard_stop_after_ms =
                Some(args::time(required(line, 1, keyword, "a time")?, keyword)?);
            args::no_more(line, 2, keyword)
        }
        "default-path" => default_path(line, cx),
        "crt-base" => {
            let base = base_dir(line, keyword, cx.crt_base.is_some())?;
            cx.crt_base = Some(base);
            Ok(())
        }
        "ca-base" => {
            let base = base_dir(line, keyword, cx.ca_base.is_some())?;
            cx.ca_base = Some(base);
            Ok(())
        }
        "node" => {
            let word = required(line, 1, keyword, "a node name")?;
            args::no_more(line, 2, keyword)?;
            global.node = Some(node_name(word)?);
            Ok(())
        }
        "description" => {
            let words = line.args();
            if words.is_empty() {
                return Err(Diagnostic::error(
                    line.keyword().span,
                    "'description' expects a text",
                ));
            }
            let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
            global.description = Some(text.join(" "));
            Ok(())
        }
        // Applied by the parser while it reads the file (later lines see
        // the variables); nothing is left to do here.
        "setenv" | "presetenv" => {
            required(line, 2, keyword, "a name and a value")?;
            args::no_more(line, 3, keyword)
        }
        "unsetenv" | "resetenv" => Ok(()),
        "tune.ssl.default-dh-param" | "tune.ssl.cachesize" | "tune.ssl.lifetime" => {
            required(line, 1, keyword, "a value")?;
            args::no_more(line, 2, keyword)
        }
        _ => Err(Diagnostic::error(
            line.keyword().span,
            format!("'{}' is not supported by lbd", keyword_text(line, 2)),
        )),
    }
}

/// `stats socket <address> [mode <octal>] [level user|operator|admin] ...`.
fn stats_socket(global: &mut Global, line: &LineDecl) -> Result<(), Diagnostic> {
    let keyword = "stats socket";
    let word = required(line, 2, keyword, "an address")?;
    let path = match addr::parse(&word.text, false, false) {
        Ok(Addr::Unix(path)) => path,
        Ok(Addr::Inet { .. }) => {
            return Err(Diagnostic::error(
                word.span,
                "'stats socket' on a TCP address is not supported by lbd",
            ));
        }
        Err(e) => return Err(Diagnostic::error(word.span, format!("'stats socket': {e}"))),
    };
    let mut socket = StatsSocket {
        path,
        mode: None,
        level: Level::Operator,
    };
    let mut i = 3;
    while let Some(option) = line.words.get(i) {
        let value = required(line, i + 1, option.text.as_str(), "a value")?;
        match option.text.as_str() {
            "mode" => {
                let mode = u32::from_str_radix(&value.text, 8).map_err(|_| {
                    Diagnostic::error(
                        value.span,
                        format!("'mode' expects an octal mode, got '{}'", value.text),
                    )
                })?;
                socket.mode = Some(mode);
            }
            "level" => {
                socket.level = match value.text.as_str() {
                    "user" => Level::User,
                    "operator" => Level::Operator,
                    "admin" => Level::Admin,
                    other => {
                        return Err(Diagnostic::error(
                            value.span,
                            format!("'level' expects 'user', 'operator' or 'admin', got '{other}'"),
                        ));
                    }
                };
            }
            "user" | "group" | "uid" | "gid" | "maxconn" | "name" | "expose-fd" | "process"
            | "thread" => {}
            other => {
                return Err(Diagnostic::error(
                    option.span,
                    format!("'stats socket' option '{other}' is not supported by lbd"),
                ));
            }
        }
        i += 2;
    }
    global.stats_sockets.push(socket);
    Ok(())
}

/// `crt-base <dir>` or `ca-base <dir>`; HAProxy refuses a second one.
fn base_dir(line: &LineDecl, keyword: &str, already: bool) -> Result<BaseDir, Diagnostic> {
    let word = required(line, 1, keyword, "a directory")?;
    args::no_more(line, 2, keyword)?;
    if already {
        return Err(Diagnostic::error(
            line.keyword().span,
            format!("'{keyword}' is already set (HAProxy takes one)"),
        ));
    }
    Ok(BaseDir {
        dir: word.text.clone(),
        span: line.keyword().span,
    })
}

/// A `node` name: letters, digits, '.', '-' and '_', not empty.
fn node_name(word: &Word) -> Result<String, Diagnostic> {
    let valid = !word.text.is_empty()
        && word
            .text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !valid {
        return Err(Diagnostic::error(
            word.span,
            format!(
                "'node' expects a name of letters, digits, '.', '-' or '_', got '{}'",
                word.text
            ),
        ));
    }
    Ok(word.text.clone())
}

/// `default-path current|config|parent|origin <dir>`.
fn default_path(line: &LineDecl, cx: &mut Cx) -> Result<(), Diagnostic> {
    let keyword = "default-path";
    let kind = required(
        line,
        1,
        keyword,
        "'current', 'config', 'parent' or 'origin <dir>'",
    )?;
    cx.default_path = match kind.text.as_str() {
        "current" => DefaultPath::Current,
        "config" => DefaultPath::Config,
        "parent" => DefaultPath::Parent,
        "origin" => {
            let dir = required(line, 2, "default-path origin", "a directory")?;
            return {
                cx.default_path = DefaultPath::Origin(PathBuf::from(&dir.text));
                args::no_more(line, 3, keyword)
            };
        }
        other => {
            return Err(Diagnostic::error(
                kind.span,
                format!(
                    "'default-path' expects 'current', 'config', 'parent' or 'origin <dir>', got '{other}'"
                ),
            ));
        }
    };
    args::no_more(line, 2, keyword)
}
