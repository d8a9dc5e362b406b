//! `show errors [<proxy>] [request|response]`: how many faulty messages
//! were captured, then the last one of each proxy and direction, with its
//! bytes escaped line by line.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::super::{Ctx, messages};
use crate::compile::program::Proxy;
use crate::stats::{CaptureKind, ErrorCapture};

/// Bytes per dump line before it is continued on the next.
const WIDTH: usize = 72;

pub fn show(ctx: &Ctx, args: &[String]) -> String {
    let p = &ctx.program;
    let mut only: Option<&Proxy> = None;
    let (mut requests, mut responses) = (true, true);
    for a in args {
        match a.as_str() {
            "request" => responses = false,
            "response" => requests = false,
            "" => {}
            name => match p.find_proxy(name) {
                Some(px) => only = Some(px),
                None => return messages::NO_SUCH_PROXY.into(),
            },
        }
    }
    let total: u64 = p
        .proxies
        .iter()
        .map(|px| {
            px.frontend_counters.captured.load(Ordering::Relaxed)
                + px.backend_counters.captured.load(Ordering::Relaxed)
        })
        .sum();
    let mut out = format!(
        "Total events captured on [{}] : {total}\n",
        stamp(now_unix_ms())
    );
    for px in &p.proxies {
        if only.is_some_and(|o| o.id != px.id) {
            continue;
        }
        let sides = [
            (requests && px.cap.frontend, &px.frontend_counters),
            (responses && px.cap.backend, &px.backend_counters),
        ];
        for (wanted, counters) in sides {
            if !wanted {
                continue;
            }
            let event = counters.captured.load(Ordering::Relaxed).saturating_sub(1);
            if let Some(c) = counters.last_error.lock().as_deref() {
                entry(&mut out, px, c, event);
            }
        }
    }
    out
}

fn entry(out: &mut String, px: &Proxy, c: &ErrorCapture, event: u64) {
    let (side, what, other) = match c.kind {
        CaptureKind::Request => ("frontend", "invalid request", "backend"),
        CaptureKind::Response => ("backend", "invalid response", "frontend"),
    };
    let name_id = |v: &Option<(String, u32)>| match v {
        Some((n, id)) => format!("{n} (#{id})"),
        None => "<NONE> (#-1)".into(),
    };
    let src = c.src.map_or_else(|| "unix".to_string(), |a| a.to_string());
    let done = write!(
        out,
        " \n[{}] {side} {} (#{}): {what}\n  {other} {}, server {}, event #{event}, src {src}\n  len {}, error at position {}\n  \n",
        stamp(c.when_unix_ms),
        px.name,
        px.uuid,
        name_id(&c.peer_proxy),
        name_id(&c.server),
        c.bytes.len(),
        c.error_pos,
    );
    debug_assert!(done.is_ok(), "writing to a String cannot fail");
    dump(out, &c.bytes);
}

/// `  <offset>  <escaped bytes>` per line of the message; long lines go on
/// in lines marked `+`.
pub fn dump(out: &mut String, bytes: &[u8]) {
    let mut offset = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        for (i, part) in line.chunks(WIDTH).enumerate() {
            let mark = if i == 0 { ' ' } else { '+' };
            let done = write!(out, "  {offset:05}{mark} ");
            debug_assert!(done.is_ok(), "writing to a String cannot fail");
            for &b in part {
                escape(out, b);
            }
            out.push('\n');
            offset += part.len();
        }
    }
}

fn escape(out: &mut String, b: u8) {
    match b {
        b'\t' => out.push_str("\\t"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        0x1b => out.push_str("\\e"),
        b'\\' => out.push_str("\\\\"),
        0x20..=0x7e => out.push(b as char),
        _ => {
            let done = write!(out, "\\x{b:02x}");
            debug_assert!(done.is_ok(), "writing to a String cannot fail");
        }
    }
}

fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `22/Nov/2026:23:19:27.263` (UTC).
pub fn stamp(unix_ms: u64) -> String {
    date(unix_ms, false)
}

/// `25/Nov/2026:21:46:06.787000` (UTC), as `show sess` dumps print it.
pub(super) fn stamp_us(unix_ms: u64) -> String {
    date(unix_ms, true)
}

fn date(unix_ms: u64, micros: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = unix_ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let fraction = if micros {
        format!("{:06}", unix_ms % 1000 * 1000)
    } else {
        format!("{:03}", unix_ms % 1000)
    };
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02}.{fraction}",
        MONTHS[(m as usize + 11) % 12],
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
    )
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
        assert_eq!(stamp(1_795_388_834_186), "22/Nov/2026:23:07:14.186");
    }

    #[test]
    fn bytes_dump_line_by_line_with_escapes() {
        let mut out = String::new();
        dump(&mut out, b"GET /a b c HTTP/1.1\r\nHost: test1.com\r\n\r\n");
        assert_eq!(
            out,
            "  00000  GET /a b c HTTP/1.1\\r\\n\n  00021  Host: test1.com\\r\\n\n  00038  \\r\\n\n"
        );
    }
}
