//! `show stat [<iid|proxy> <type> <sid>] [typed|up|no-maint]`: the CSV of
//! every frontend, server and backend, with HAProxy 2.6's 128 columns in
//! its order, the `# ` header, and a trailing comma on every line. Which
//! cells are empty depends on the row kind and mode exactly as in HAProxy
//! (`haproxy-cli.md` §2.3), so that every row has the same number of
//! fields and clients that read by position (hatop, the exporter) work.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::super::messages;
use crate::compile::program::{Mode, Program, Proxy};

pub mod rows;
mod typed;

pub use rows::{Cell, Row, RowKind, backend_row, frontend_row, server_row};

/// Which rows `show stat` prints, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRequest {
    /// Only this proxy (`iid`); `None` = all.
    pub iid: Option<u32>,
    /// Bit mask: 1 frontends, 2 backends, 4 servers.
    pub types: u32,
    /// Only this server id; `None` = all.
    pub sid: Option<u32>,
    pub typed: bool,
    /// `up`: only servers that are up.
    pub up_only: bool,
    /// `no-maint`: hide servers in maintenance.
    pub no_maint: bool,
}

impl Default for StatRequest {
    fn default() -> Self {
        StatRequest {
            iid: None,
            types: 7,
            sid: None,
            typed: false,
            up_only: false,
            no_maint: false,
        }
    }
}

/// Parses the words after `show stat`.
pub fn parse_request(program: &Program, args: &[String]) -> Result<StatRequest, String> {
    let mut req = StatRequest::default();
    let mut rest = args;
    if args.len() >= 3 && !is_option(&args[0]) {
        req.iid = match args[0].parse::<i64>() {
            Ok(-1) => None,
            Ok(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(_) => Some(
                program
                    .find_proxy(&args[0])
                    .map(|p| p.uuid)
                    .ok_or_else(|| messages::NO_SUCH_PROXY.to_string())?,
            ),
        };
        req.types = match args[1].parse::<i64>() {
            Ok(-1) => 7,
            Ok(n) => (n & 7) as u32,
            Err(_) => 0,
        };
        req.sid = match args[2].parse::<i64>() {
            Ok(-1) | Err(_) => None,
            Ok(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        };
        rest = &args[3..];
    }
    for opt in rest {
        match opt.as_str() {
            "typed" => req.typed = true,
            "up" => req.up_only = true,
            "no-maint" => req.no_maint = true,
            "json" | "desc" => return Err(messages::NOT_SUPPORTED.into()),
            _ => {}
        }
    }
    Ok(req)
}

fn is_option(word: &str) -> bool {
    matches!(word, "typed" | "up" | "no-maint" | "json" | "desc")
}

/// The whole answer of `show stat` for `req`.
pub fn show_stat(program: &Program, req: &StatRequest) -> String {
    let mut out = String::with_capacity(4096);
    if !req.typed {
        header(&mut out);
    }
    let now_ms = crate::clock::monotonic_ms();
    for row in select(program, req, now_ms) {
        if req.typed {
            typed::write(&mut out, &row);
        } else {
            write_csv(&mut out, &row);
        }
    }
    out
}

/// The CSV of every row, as the stats page's `;csv` form and the
/// exporter read it (header included, no terminator).
pub fn stat_csv(program: &Program) -> String {
    show_stat(program, &StatRequest::default())
}

/// `# pxname,svname,...,` and a newline.
pub fn header(out: &mut String) {
    out.push_str("# ");
    for name in crate::stats::names::STAT_FIELDS {
        out.push_str(name);
        out.push(',');
    }
    out.push('\n');
}

/// The rows `req` selects, in HAProxy's order: per proxy, its frontend,
/// its servers, its backend.
pub fn select<'p>(program: &'p Program, req: &StatRequest, now_ms: u64) -> Vec<Row<'p>> {
    let mut rows = Vec::new();
    for p in &program.proxies {
        if req.iid.is_some_and(|iid| iid != p.uuid) {
            continue;
        }
        if p.cap.frontend && req.types & 1 != 0 && req.sid.is_none_or(|s| s == 0) {
            rows.push(frontend_row(program, p, now_ms));
        }
        if req.types & 4 != 0 {
            for s in &p.servers {
                if req.sid.is_some_and(|sid| sid != s.uuid) || !shown(s, req) {
                    continue;
                }
                rows.push(server_row(program, p, s, now_ms));
            }
        }
        if p.cap.backend && req.types & 2 != 0 && req.sid.is_none_or(|s| s == 0) {
            rows.push(backend_row(program, p, now_ms));
        }
    }
    rows
}

/// Whether `up` / `no-maint` keep a server.
fn shown(s: &crate::compile::program::Server, req: &StatRequest) -> bool {
    let maint = s.state.admin() == crate::stats::AdminState::Maint;
    !(req.no_maint && maint || req.up_only && !s.state.is_usable())
}

/// One CSV line: every cell followed by a comma.
pub fn write_csv(out: &mut String, row: &Row<'_>) {
    for cell in &row.cells {
        write_cell(out, cell);
        out.push(',');
    }
    out.push('\n');
}

fn write_cell(out: &mut String, cell: &Cell<'_>) {
    let done = match cell {
        Cell::Empty => Ok(()),
        Cell::U(v) => write!(out, "{v}"),
        Cell::I(v) => write!(out, "{v}"),
        Cell::S(s) => {
            out.push_str(&csv_escape(s));
            Ok(())
        }
    };
    debug_assert!(done.is_ok(), "writing to a String cannot fail");
}

/// Quotes a field that contains a comma, a quote or a line break.
fn csv_escape<'a>(s: &'a str) -> Cow<'a, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// The mode keyword of a proxy as the `mode` column prints it.
pub fn mode(p: &Proxy) -> &'static str {
    match p.mode {
        Mode::Http => "http",
        Mode::Tcp => "tcp",
    }
}
