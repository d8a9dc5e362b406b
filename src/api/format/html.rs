//! The HTML stats page (`stats uri`): one table per proxy with the same
//! rows and main columns as `show stat`, refreshed by the browser every
//! `stats refresh` seconds. Its `;csv` form is [`super::stat_csv`].

use std::fmt::Write as _;

use super::stat::{RowKind, StatRequest, select};
use crate::compile::program::Program;
use crate::stats::names::col;

/// Columns shown, with their titles.
const COLUMNS: [(usize, &str); 16] = [
    (col::SVNAME, "Name"),
    (col::STATUS, "Status"),
    (col::WEIGHT, "Weight"),
    (col::ACT, "Act"),
    (col::BCK, "Bck"),
    (col::QCUR, "Queue"),
    (col::SCUR, "Sessions cur"),
    (col::SMAX, "max"),
    (col::SLIM, "limit"),
    (col::STOT, "total"),
    (col::BIN, "Bytes in"),
    (col::BOUT, "out"),
    (col::DREQ, "Denied req"),
    (col::EREQ, "Errors req"),
    (col::ECON, "conn"),
    (col::CHECK_STATUS, "Check"),
];

/// The page; `refresh_s` adds a refresh header to the document.
pub fn stats_html(program: &Program, refresh_s: Option<u64>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>Statistics Report for lbd</title>\n");
    if let Some(s) = refresh_s {
        push(
            &mut out,
            format_args!("<meta http-equiv=\"refresh\" content=\"{s}\">\n"),
        );
    }
    out.push_str("<style>table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;font:12px monospace}th{background:#20a0ff;color:#fff}.down{background:#f66}.maint{background:#c9f}.up{background:#8f8}</style>\n</head><body>\n");
    push(
        &mut out,
        format_args!(
            "<h1>lbd {} statistics</h1>\n<p><a href=\";csv\">CSV export</a></p>\n",
            super::info::VERSION
        ),
    );
    let rows = select(
        program,
        &StatRequest::default(),
        crate::clock::monotonic_ms(),
    );
    let mut current: Option<u32> = None;
    for row in &rows {
        if current != Some(row.iid) {
            if current.is_some() {
                out.push_str("</table>\n");
            }
            current = Some(row.iid);
            push(
                &mut out,
                format_args!(
                    "<table><tr><th colspan=\"{}\">{}</th></tr>\n<tr>",
                    COLUMNS.len(),
                    html_escape(&row.get(col::PXNAME))
                ),
            );
            for (_, title) in COLUMNS {
                push(&mut out, format_args!("<th>{title}</th>"));
            }
            out.push_str("</tr>\n");
        }
        let status = row.get(col::STATUS);
        let class = match status.as_str() {
            s if s.starts_with("DOWN") => "down",
            "MAINT" => "maint",
            _ if row.kind == RowKind::Server => "up",
            _ => "",
        };
        push(&mut out, format_args!("<tr class=\"{class}\">"));
        for (at, _) in COLUMNS {
            push(
                &mut out,
                format_args!("<td>{}</td>", html_escape(&row.get(at))),
            );
        }
        out.push_str("</tr>\n");
    }
    if current.is_some() {
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn push(out: &mut String, args: std::fmt::Arguments<'_>) {
    let done = out.write_fmt(args);
    debug_assert!(done.is_ok(), "writing to a String cannot fail");
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
