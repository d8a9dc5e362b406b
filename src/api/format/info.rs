//! `show info [typed]`: process facts as `Key: value` lines in HAProxy's
//! order (hatop requires Name, Version, Release_date, Nbproc, Process_num,
//! Pid, Uptime, Maxconn, CurrConns, Maxpipes, PipesUsed, Tasks, Run_queue
//! and node; the exporter reads Version and Release_date).
//!
//! lbd names itself (`Name: lbd`) and reports 0 for what it does not have
//! (SSL session caches, compression, memory pools).

use std::sync::atomic::Ordering;

use super::super::Ctx;
use crate::stats::Counters;

/// What `show version` and `Version:` print.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The release date of this version.
pub const RELEASE_DATE: &str = "2026/11/25";

/// `(index, name, tags, type)` of each line, as `show info typed` numbers
/// them (indexes of fields HAProxy always leaves empty are left out; an
/// empty value, such as `description` when none is set, is not printed).
const FIELDS: [(u32, &str, &str, &str); 70] = [
    (0, "Name", "POS", "str"),
    (1, "Version", "POS", "str"),
    (2, "Release_date", "POS", "str"),
    (3, "Nbthread", "CGS", "u32"),
    (4, "Nbproc", "CGS", "u32"),
    (5, "Process_num", "KGP", "u32"),
    (6, "Pid", "SGP", "u32"),
    (7, "Uptime", "MDP", "str"),
    (8, "Uptime_sec", "MDP", "u32"),
    (9, "Memmax_MB", "CLP", "u32"),
    (10, "PoolAlloc_MB", "MGP", "u32"),
    (11, "PoolUsed_MB", "MGP", "u32"),
    (12, "PoolFailed", "MCP", "u32"),
    (13, "Ulimit-n", "CLP", "u32"),
    (14, "Maxsock", "CLP", "u32"),
    (15, "Maxconn", "CLP", "u32"),
    (16, "Hard_maxconn", "CLP", "u32"),
    (17, "CurrConns", "MGP", "u32"),
    (18, "CumConns", "MCP", "u32"),
    (19, "CumReq", "MCP", "u32"),
    (20, "MaxSslConns", "MMP", "u32"),
    (21, "CurrSslConns", "MGP", "u32"),
    (22, "CumSslConns", "MCP", "u32"),
    (23, "Maxpipes", "CLP", "u32"),
    (24, "PipesUsed", "MGP", "u32"),
    (25, "PipesFree", "MGP", "u32"),
    (26, "ConnRate", "MRP", "u32"),
    (27, "ConnRateLimit", "CLP", "u32"),
    (28, "MaxConnRate", "MMP", "u32"),
    (29, "SessRate", "MRP", "u32"),
    (30, "SessRateLimit", "CLP", "u32"),
    (31, "MaxSessRate", "MRP", "u32"),
    (32, "SslRate", "MRP", "u32"),
    (33, "SslRateLimit", "CLP", "u32"),
    (34, "MaxSslRate", "MMP", "u32"),
    (35, "SslFrontendKeyRate", "MGP", "u32"),
    (36, "SslFrontendMaxKeyRate", "MMP", "u32"),
    (37, "SslFrontendSessionReuse_pct", "MGP", "u32"),
    (38, "SslBackendKeyRate", "MRP", "u32"),
    (39, "SslBackendMaxKeyRate", "MMP", "u32"),
    (40, "SslCacheLookups", "MCP", "u32"),
    (41, "SslCacheMisses", "MCP", "u32"),
    (42, "CompressBpsIn", "MRP", "u32"),
    (43, "CompressBpsOut", "MRP", "u32"),
    (44, "CompressBpsRateLim", "CLP", "u32"),
    (47, "Tasks", "MGP", "u32"),
    (48, "Run_queue", "MGP", "u32"),
    (49, "Idle_pct", "MaP", "u32"),
    (50, "node", "COS", "str"),
    (51, "description", "COS", "str"),
    (52, "Stopping", "MGP", "u32"),
    (53, "Jobs", "MGP", "u32"),
    (54, "Unstoppable Jobs", "MGP", "u32"),
    (55, "Listeners", "MGP", "u32"),
    (56, "ActivePeers", "MGP", "u32"),
    (57, "ConnectedPeers", "MGP", "u32"),
    (58, "DroppedLogs", "MGP", "u32"),
    (59, "BusyPolling", "MGP", "u32"),
    (60, "FailedResolutions", "MGP", "u32"),
    (61, "TotalBytesOut", "MGP", "u64"),
    (62, "TotalSplicdedBytesOut", "MGP", "u64"),
    (63, "BytesOutRate", "MRP", "u64"),
    (64, "DebugCommandsIssued", "MGP", "u32"),
    (65, "CumRecvLogs", "MCP", "u32"),
    (66, "Build info", "POS", "str"),
    (67, "Memmax_bytes", "CLP", "u32"),
    (68, "PoolAlloc_bytes", "MGP", "u64"),
    (69, "PoolUsed_bytes", "MGP", "u64"),
    (70, "Start_time_sec", "MDP", "u32"),
    (71, "Tainted", "SGP", "str"),
];

/// The whole answer of `show info` (`typed`: HAProxy's typed form).
pub fn show_info(ctx: &Ctx, typed: bool) -> String {
    let values = values(ctx);
    let mut out = String::with_capacity(2048);
    for ((idx, name, tags, ty), value) in FIELDS.iter().zip(values) {
        if value.is_empty() {
            continue;
        }
        if typed {
            out.push_str(&format!("{idx}.{name}.1:{tags}:{ty}:{value}\n"));
        } else {
            out.push_str(&format!("{name}: {value}\n"));
        }
    }
    out
}

/// One value per entry of [`FIELDS`], in order.
fn values(ctx: &Ctx) -> Vec<String> {
    let p = &ctx.program;
    let g = &p.global;
    let fe = || p.frontends().map(|f| &*f.frontend_counters);
    let cur: u64 = fe()
        .map(|c| u64::from(c.cur_sessions.load(Ordering::Relaxed)))
        .sum();
    let cum_conns: u64 = fe().map(|c| Counters::read(&c.sessions_total)).sum::<u64>()
        + ctx.cli_conns.load(Ordering::Relaxed);
    let cum_req: u64 = fe().map(|c| Counters::read(&c.http_requests)).sum();
    let bytes_out: u64 = fe().map(|c| Counters::read(&c.bytes_out)).sum();
    let now_ms = crate::clock::monotonic_ms();
    let rate: u64 = fe().map(|c| u64::from(c.session_rate.read(now_ms))).sum();
    let max_rate: u64 = fe().map(|c| u64::from(c.session_rate.max())).sum();
    let listeners = p
        .frontends()
        .map(|f| f.binds.iter().map(|b| b.addrs.len()).sum::<usize>())
        .sum::<usize>()
        + g.stats_sockets.len();
    let threads = g.nbthread.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let up = ctx.uptime_s();
    let ulimit = open_files_limit();
    let n = |v: u64| v.to_string();
    let mut v: Vec<String> = vec![
        "lbd".into(),
        VERSION.into(),
        RELEASE_DATE.into(),
        n(threads as u64),
        n(1),
        n(1),
        n(u64::from(std::process::id())),
        uptime(up),
        n(up),
    ];
    v.extend(["0", "0", "0", "0"].map(String::from)); // memory pools
    v.extend([
        n(ulimit),
        n(ulimit),
        n(u64::from(g.maxconn)),
        n(u64::from(g.maxconn)),
    ]);
    v.extend([n(cur), n(cum_conns), n(cum_req)]);
    // SSL conns.
    v.extend(std::iter::repeat_n("0".to_string(), 3));
    let (used, free) = ctx.pipes.as_ref().map_or((0, 0), |p| (p.used(), p.free()));
    v.extend([n(u64::from(g.max_pipes())), n(used as u64), n(free as u64)]);
    // ConnRate, ConnRateLimit, MaxConnRate, SessRate, SessRateLimit, MaxSessRate.
    v.extend([n(rate), n(0), n(max_rate), n(rate), n(0), n(max_rate)]);
    // SSL rates and caches, compression.
    v.extend(std::iter::repeat_n("0".to_string(), 13));
    let node = g.node.clone().unwrap_or_else(hostname);
    let description = g.description.clone().unwrap_or_default();
    v.extend([n(cur + 1), n(0), n(100), node, description, n(0)]);
    v.extend([n(cur + listeners as u64), n(0), n(listeners as u64)]);
    v.extend(std::iter::repeat_n("0".to_string(), 5)); // peers, logs, polling, resolutions
    v.extend([n(bytes_out), n(0), n(0), n(0), n(0)]);
    v.extend([VERSION.into(), n(0), n(0), n(0), n(ctx.start_unix_s), n(0)]);
    debug_assert_eq!(v.len(), FIELDS.len(), "one value per show info field");
    v
}

/// `<d>d <h>h<mm>m<ss>s`.
pub fn uptime(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86_400,
        secs / 3_600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// The soft limit on open files, from `/proc/self/limits` (0 if unknown).
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The host name (`node:` when the configuration sets no `node`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::super::Ctx;
    use super::{show_info, uptime};
    use crate::compile::program::{Global, Program};
    use crate::stick::Tables;

    fn info_of(global: Global, typed: bool) -> String {
        let program = Program {
            global,
            proxies: Vec::new(),
            tables: Vec::new(),
            userlists: Vec::new(),
        };
        let ctx = Ctx::new(Arc::new(program), Arc::new(Tables::new(Vec::new())));
        show_info(&ctx, typed)
    }

    #[test]
    fn node_and_description_come_from_global() {
        let global = Global {
            node: Some("lb-1".to_string()),
            description: Some("edge balancer".to_string()),
            ..Global::default()
        };
        let info = info_of(global.clone(), false);
        assert!(
            info.contains("\nnode: lb-1\ndescription: edge balancer\nStopping: 0\n"),
            "{info}"
        );
        let typed = info_of(global, true);
        assert!(
            typed.contains(
                "\n50.node.1:COS:str:lb-1\n51.description.1:COS:str:edge balancer\n52.Stopping."
            ),
            "{typed}"
        );
    }

    #[test]
    fn no_description_line_without_one() {
        let info = info_of(Global::default(), false);
        assert!(!info.contains("description"), "{info}");
        let typed = info_of(Global::default(), true);
        assert!(!typed.contains("\n51."), "{typed}");
    }

    #[test]
    fn uptime_prints_days_hours_minutes_seconds() {
        assert_eq!(uptime(9), "0d 0h00m09s");
        assert_eq!(uptime(86_400 + 3 * 3_600 + 61), "1d 3h01m01s");
    }
}
