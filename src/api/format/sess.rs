//! `show sess`: lbd does not keep a registry of client sessions that the
//! API could walk; it lists the runtime API's own session like HAProxy
//! does, followed by a count of the data plane's open sessions per
//! frontend.

use std::sync::atomic::Ordering;

use super::super::Ctx;

pub fn show(ctx: &Ctx) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "0x{:x}: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> age=0s\n",
        ctx.cli_conns.load(Ordering::Relaxed)
    ));
    for fe in ctx.program.frontends() {
        let cur = fe.frontend_counters.cur_sessions.load(Ordering::Relaxed);
        out.push_str(&format!("# fe={} sessions={cur}\n", fe.name));
    }
    out
}
