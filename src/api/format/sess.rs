//! `show sess [id]`: one line per live stream of the data plane, then the
//! runtime API's own, in HAProxy 2.6's shape; with an id, a dump of that
//! one stream.
//!
//! lbd fills in what it knows: the id, `proto`, `src`, `fe`, `be`, `srv`,
//! `age`, the client and server file descriptors (`fd=` of `scf` and
//! `scb`) and `exp`. HAProxy's internal state has no counterpart here and
//! is printed with fixed, neutral values in the same shape, so that tools
//! splitting the line keep working: `ts=00 epoch=0 calls=1 rate=0 cpu=0
//! lat=0`, the channel flags `rq[f=0h,i=0,an=00h,rx=,wx=,ax=]` and
//! `rp[...]`, the stream connector's state and flags in `scf=[8,0h,...]`
//! and `scb=[8,1h,...]` (8: established), `rc=0` and an empty `c_exp=`.

use std::net::SocketAddr;

use super::super::Ctx;
use super::errors::stamp_us;
use crate::compile::program::{Mode, Program};
use crate::stats::StreamInfo;
use crate::stats::streams::cli_stream_id;

/// HAProxy's answer when no stream has the id asked for.
const NOT_FOUND: &str = "Session not found.\n";

/// `shutdown session <id>`: HAProxy's answer (empty when the stream was
/// asked to end).
pub fn shutdown(ctx: &Ctx, word: &str) -> &'static str {
    if word.is_empty() {
        return "Session pointer expected (use 'show sess').\n";
    }
    let id = parse_id(word);
    match ctx.streams.as_deref() {
        Some(streams) if id != 0 && streams.kill(id) => "",
        _ => "No such session (use 'show sess').\n",
    }
}

/// `show sess` (every stream) or `show sess <id>` (`args` are the words
/// after `show sess`). `cli_timeout_ms` is the asking connection's idle
/// timeout, the `exp` of its own line.
pub fn show(ctx: &Ctx, args: &[String], cli_timeout_ms: u64) -> String {
    let now_ms = crate::clock::monotonic_ms();
    let cli_id = cli_stream_id(ctx.cli_conns.load(std::sync::atomic::Ordering::Relaxed));
    let streams = ctx.streams.as_deref();
    let mut out = String::new();
    match args.first().map(String::as_str) {
        Some("all") => {
            for s in streams.map(|s| s.snapshot()).unwrap_or_default() {
                dump(&mut out, &ctx.program, &s, now_ms, ctx.start_unix_s);
            }
            out.push_str(&cli_dump(cli_id, ctx.start_unix_s, now_ms));
        }
        // HAProxy reads the id with `strtoul`: what is not a number is 0,
        // which lists every stream.
        Some(word) if parse_id(word) != 0 => {
            let id = parse_id(word);
            match streams.and_then(|s| s.find(id)) {
                Some(s) => dump(&mut out, &ctx.program, &s, now_ms, ctx.start_unix_s),
                None if id == cli_id => out.push_str(&cli_dump(cli_id, ctx.start_unix_s, now_ms)),
                None => out.push_str(NOT_FOUND),
            }
        }
        _ => {
            for s in streams.map(|s| s.snapshot()).unwrap_or_default() {
                out.push_str(&line(&ctx.program, &s, now_ms));
            }
            out.push_str(&cli_line(cli_id, cli_timeout_ms));
        }
    }
    out
}

/// A number as C's `strtoul(s, NULL, 0)` reads it: `0x` hex, leading `0`
/// octal, else decimal; the digits up to the first other character; 0 when
/// there are none.
pub fn parse_id(word: &str) -> u64 {
    let (digits, radix) =
        if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
            (hex, 16)
        } else if word.len() > 1 && word.starts_with('0') {
            (&word[1..], 8)
        } else {
            (word, 10)
        };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], radix).unwrap_or(0)
}

/// One stream's line.
pub fn line(program: &Program, s: &StreamInfo, now_ms: u64) -> String {
    let names = Names::of(program, s);
    let age = human_time(now_ms.saturating_sub(s.started_ms) / 1000);
    let server_fd = s.server_fd.unwrap_or(-1);
    // HAProxy's back side is in state 2 (not yet connected) while no
    // server connection exists.
    let scb_state = if s.server_fd.is_some() { 8 } else { 2 };
    format!(
        "0x{:x}: proto={} src={} fe={} be={} srv={} ts=00 epoch=0 age={age} calls=1 rate=0 cpu=0 lat=0 \
         rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] \
         scf=[8,0h,fd={}] scb=[{scb_state},1h,fd={server_fd}] exp={} rc=0 c_exp=\n",
        s.id,
        proto(s.src),
        addr(s.src),
        names.frontend,
        names.backend,
        names.server,
        s.client_fd,
        expiry(s.expires_ms, now_ms),
    )
}

/// The runtime API's own stream, listed last as HAProxy lists the asking
/// connection. Its descriptor is not known here (`fd=-1`).
fn cli_line(id: u64, timeout_ms: u64) -> String {
    format!(
        "0x{id:x}: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s calls=1 rate=0 cpu=0 lat=0 \
         rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] \
         scf=[8,0h,fd=-1] scb=[8,1h,fd=-1] exp={} rc=0 c_exp=\n",
        human_time(timeout_ms / 1000)
    )
}

/// The runtime API's own stream in `show sess all`.
fn cli_dump(id: u64, start_unix_s: u64, now_ms: u64) -> String {
    let now_unix_ms = start_unix_s.saturating_mul(1000).saturating_add(now_ms);
    format!(
        "0x{id:x}: [{}] id={} proto=unix_stream source=unix:1\n  frontend=GLOBAL (id=0 mode=tcp)\n",
        stamp_us(now_unix_ms),
        id >> 8
    )
}

/// `show sess <id>` and `show sess all`: the parts of HAProxy's dump lbd knows, in its order
/// and shape: the accept date and source, the frontend, the backend and
/// the server, the stream's age and timeout, and each side's descriptor.
fn dump(out: &mut String, program: &Program, s: &StreamInfo, now_ms: u64, start_unix_s: u64) {
    let names = Names::of(program, s);
    let accept_unix_ms = start_unix_s
        .saturating_mul(1000)
        .saturating_add(s.started_ms);
    out.push_str(&format!(
        "0x{:x}: [{}] id={} proto={} source={}\n",
        s.id,
        stamp_us(accept_unix_ms),
        s.id >> 8,
        proto(s.src),
        addr(s.src)
    ));
    let mode = |p: Option<&crate::compile::program::Proxy>| match p.map(|p| p.mode) {
        Some(Mode::Http) => "http",
        Some(Mode::Tcp) => "tcp",
        None => "-",
    };
    let fe = program.proxies.get(s.frontend as usize);
    let be = s.backend.and_then(|b| program.proxies.get(b as usize));
    out.push_str(&format!(
        "  frontend={} (id={} mode={})\n",
        names.frontend,
        fe.map_or(-1, |p| i64::from(p.uuid)),
        mode(fe)
    ));
    out.push_str(&format!(
        "  backend={} (id={} mode={})\n",
        names.backend,
        be.map_or(-1, |p| i64::from(p.uuid)),
        mode(be)
    ));
    let sv = be
        .zip(s.server)
        .and_then(|(b, i)| b.servers.get(i as usize));
    match sv {
        Some(sv) => out.push_str(&format!(
            "  server={} (id={}) addr={}\n",
            sv.name,
            sv.uuid,
            addr(sv.addr)
        )),
        None => out.push_str("  server=<NONE> (id=-1)\n"),
    }
    out.push_str(&format!(
        "  task=0x{:x} (calls=1 rate=0 exp={} age={})\n",
        s.id,
        expiry(s.expires_ms, now_ms),
        human_time(now_ms.saturating_sub(s.started_ms) / 1000)
    ));
    out.push_str(&format!("  scf=(state=EST) fd={}\n", s.client_fd));
    match s.server_fd {
        Some(fd) => out.push_str(&format!("  scb=(state=EST) fd={fd}\n")),
        None => out.push_str("  scb=(state=INI) fd=-1\n"),
    }
}

/// Names of a stream's frontend, backend and server, as `show sess`
/// prints them (`<NONE>` and `<none>` before they are chosen).
struct Names<'p> {
    frontend: &'p str,
    backend: &'p str,
    server: &'p str,
}

impl<'p> Names<'p> {
    fn of(program: &'p Program, s: &StreamInfo) -> Names<'p> {
        let proxy = |i: u32| program.proxies.get(i as usize);
        let be = s.backend.and_then(proxy);
        Names {
            frontend: proxy(s.frontend).map_or("?", |p| p.name.as_str()),
            backend: be.map_or("<NONE>", |p| p.name.as_str()),
            server: be
                .zip(s.server)
                .and_then(|(b, i)| b.servers.get(i as usize))
                .map_or("<none>", |sv| sv.name.as_str()),
        }
    }
}

fn proto(src: SocketAddr) -> &'static str {
    match src {
        SocketAddr::V4(_) => "tcpv4",
        SocketAddr::V6(_) => "tcpv6",
    }
}

/// `addr:port` without brackets around IPv6 addresses, as HAProxy prints
/// `src`.
fn addr(a: SocketAddr) -> String {
    format!("{}:{}", a.ip(), a.port())
}

/// The time left until `expires_ms`; empty when no timeout is set, `0s`
/// once it has passed (a tunnel with traffic waits longer than the
/// deadline lbd records at its connect).
fn expiry(expires_ms: Option<u64>, now_ms: u64) -> String {
    match expires_ms {
        Some(at) => human_time(at.saturating_sub(now_ms) / 1000),
        None => String::new(),
    }
}

/// HAProxy's short durations: the first two non-zero units among days,
/// hours, minutes and seconds, largest first (`0s`, `59s`, `2m`, `1m2s`,
/// `1h1s`, `3d4h`).
pub fn human_time(secs: u64) -> String {
    const UNITS: [(u64, char); 4] = [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')];
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut shown = 0;
    for (i, (size, unit)) in UNITS.iter().enumerate() {
        // Days take everything above; smaller units what the larger leave.
        let n = if i == 0 {
            secs / size
        } else {
            secs % UNITS[i - 1].0 / size
        };
        if n > 0 && shown < 2 {
            out.push_str(&format!("{n}{unit}"));
            shown += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_two_units_and_skip_zeros_like_haproxy() {
        let cases = [
            (0, "0s"),
            (2, "2s"),
            (60, "1m"),
            (62, "1m2s"),
            (3_581, "59m41s"),
            (3_600, "1h"),
            (3_601, "1h1s"),
            (3_660, "1h1m"),
            (90_061, "1d1h"),
            (86_460, "1d1m"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_time(secs), want, "{secs}s");
        }
    }

    #[test]
    fn ids_are_read_as_strtoul_reads_them() {
        assert_eq!(parse_id("0x5646ecf48c50"), 0x5646_ecf4_8c50);
        assert_eq!(parse_id("18"), 18);
        assert_eq!(parse_id("010"), 8);
        assert_eq!(parse_id("foo"), 0);
        assert_eq!(parse_id("12zz"), 12);
    }

    #[test]
    fn dates_are_utc_log_dates() {
        // 2026-11-25 21:46:06.787 UTC.
        assert_eq!(stamp_us(1_795_643_166_787), "25/Nov/2026:21:46:06.787000");
        assert_eq!(stamp_us(0), "01/Jan/1970:00:00:00.000000");
    }

    /// The field names of a line, after its id.
    fn words(line: &str) -> Vec<String> {
        line.split(' ')
            .skip(1)
            .map(|w| w.split('=').next().unwrap_or(w).to_string())
            .collect()
    }

    #[test]
    fn a_stream_line_has_haproxys_fields_in_order() {
        let haproxy = "0x5646ecf48c50: proto=tcpv4 src=127.0.0.9:33856 fe=http be=test1 srv=test1 ts=00 epoch=0 age=0s calls=2 rate=0 cpu=0 lat=0 rq[f=49c40080h,i=0,an=8000h,rx=,wx=,ax=] rp[f=80400000h,i=0,an=1400000h,rx=29s,wx=,ax=] scf=[8,80h,fd=12] scb=[8,11h,fd=15] exp=4s rc=0 c_exp=";
        let program = Program {
            global: crate::compile::program::Global::default(),
            proxies: Vec::new(),
            tables: Vec::new(),
            userlists: Vec::new(),
        };
        let s = StreamInfo {
            id: 0x1200,
            src: "[::1]:57692"
                .parse()
                .unwrap_or(SocketAddr::from(([0; 16], 0))),
            frontend: 0,
            backend: None,
            server: None,
            started_ms: 1_000,
            client_fd: 12,
            server_fd: None,
            expires_ms: Some(63_500),
        };
        let got = line(&program, &s, 3_000);
        assert_eq!(
            got,
            "0x1200: proto=tcpv6 src=::1:57692 fe=? be=<NONE> srv=<none> ts=00 epoch=0 age=2s calls=1 rate=0 cpu=0 lat=0 \
             rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=12] scb=[2,1h,fd=-1] exp=1m rc=0 c_exp=\n"
        );
        assert_eq!(words(got.trim_end()), words(haproxy));
        let cli = cli_line(cli_stream_id(3), 10_000);
        assert!(
            cli.starts_with("0x3ff: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ")
        );
        assert_eq!(words(cli.trim_end()), words(haproxy));
    }
}
