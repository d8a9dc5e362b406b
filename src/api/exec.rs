//! Command handlers. Each reads its words (`args[0]` is the first word of
//! the command), acts on the shared state and returns the answer. Changes
//! are stores into the atomics of `stats` or calls into the stick tables,
//! so every worker sees them at once.

mod table;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

pub use table::{clear_table, set_table, show_table};

use super::command::{self, Outcome, Session};
use super::{Ctx, format, messages};
use crate::compile::program::{Balance, HashMethod, Level, Proxy, Server};
use crate::stats::{AdminState, OpState};

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map_or("", String::as_str)
}

pub fn help(_: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    Outcome::Text(command::usage(&args[1.min(args.len())..], true))
}

pub fn prompt(_: &Ctx, session: &mut Session, _: &[String]) -> Outcome {
    session.prompt = !session.prompt;
    Outcome::done()
}

pub fn quit(_: &Ctx, _: &mut Session, _: &[String]) -> Outcome {
    Outcome::Quit
}

pub fn lower_to_operator(_: &Ctx, session: &mut Session, _: &[String]) -> Outcome {
    session.level = session.level.min(Level::Operator);
    Outcome::done()
}

pub fn lower_to_user(_: &Ctx, session: &mut Session, _: &[String]) -> Outcome {
    session.level = Level::User;
    Outcome::done()
}

pub fn show_cli_level(_: &Ctx, session: &mut Session, _: &[String]) -> Outcome {
    Outcome::Text(format!("{}\n", session.level.as_keyword()))
}

pub fn show_cli_sockets(ctx: &Ctx, _: &mut Session, _: &[String]) -> Outcome {
    let mut out = String::from("# socket lvl processes\n");
    for s in &ctx.program.global.stats_sockets {
        out.push_str(&format!(
            "unix@{} {} all\n",
            s.path.display(),
            s.level.as_keyword()
        ));
    }
    Outcome::Text(out)
}

pub fn show_version(_: &Ctx, _: &mut Session, _: &[String]) -> Outcome {
    Outcome::Text(format!("{}\n", format::info::VERSION))
}

pub fn show_backend(ctx: &Ctx, _: &mut Session, _: &[String]) -> Outcome {
    let mut out = String::from("# name\n");
    for p in ctx.program.backends() {
        out.push_str(&p.name);
        out.push('\n');
    }
    Outcome::Text(out)
}

/// `set timeout cli <seconds>`.
pub fn set_timeout(_: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    if arg(args, 2) != "cli" {
        return Outcome::text(messages::TIMEOUT_USAGE);
    }
    let value = arg(args, 3);
    if value.is_empty() {
        return Outcome::text(messages::TIMEOUT_EXPECTS);
    }
    match value.parse::<u64>() {
        Ok(s) if s > 0 && s < (1 << 31) / 1000 => {
            session.timeout_ms = s * 1000;
            Outcome::done()
        }
        _ => Outcome::text(messages::TIMEOUT_INVALID),
    }
}

pub fn show_info(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    let typed = args[2..].iter().any(|a| a == "typed");
    Outcome::Text(format::info::show_info(ctx, typed))
}

pub fn show_stat(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match format::stat::parse_request(&ctx.program, &args[2..]) {
        Ok(req) => Outcome::Text(format::stat::show_stat(&ctx.program, &req)),
        Err(text) => Outcome::Text(text),
    }
}

pub fn show_servers_state(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    let only = args.get(3).map(String::as_str);
    Outcome::Text(format::servers_state::show(&ctx.program, only))
}

pub fn show_sess(ctx: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    let rest = args.get(2..).unwrap_or_default();
    Outcome::Text(format::sess::show(ctx, rest, session.timeout_ms))
}

/// `shutdown session <id>`: ends the connection of a stream `show sess`
/// listed.
pub fn shutdown_session(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    Outcome::Text(format::sess::shutdown(ctx, arg(args, 2)).to_string())
}

pub fn show_errors(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    Outcome::Text(format::errors::show(ctx, &args[2..]))
}

/// Finds `<backend>/<server>` as HAProxy's CLI does, with its texts.
pub fn find_server<'p>(ctx: &'p Ctx, name: &str) -> Result<(&'p Proxy, &'p Server), &'static str> {
    let Some((be, sv)) = name.split_once('/') else {
        return Err(messages::REQUIRE_BACKEND_SERVER);
    };
    let be = ctx
        .program
        .backends()
        .find(|p| p.name == be)
        .ok_or(messages::NO_SUCH_BACKEND)?;
    let sv = be.find_server(sv).ok_or(messages::NO_SUCH_SERVER)?;
    Ok((be, sv))
}

pub fn get_weight(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match find_server(ctx, arg(args, 2)) {
        Ok((_, sv)) => Outcome::Text(format!(
            "{} (initial {})\n",
            sv.state.weight(),
            sv.state.initial_weight
        )),
        Err(e) => Outcome::text(e),
    }
}

pub fn set_weight(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match find_server(ctx, arg(args, 2)) {
        Ok((be, sv)) => apply_weight(be, sv, arg(args, 3)),
        Err(e) => Outcome::text(e),
    }
}

fn apply_weight(be: &Proxy, sv: &Server, text: &str) -> Outcome {
    match parse_weight(
        text,
        sv.state.initial_weight,
        is_dynamic(&be.balance, be.hash_type.method),
    ) {
        Ok(w) => {
            sv.state.set_weight(w);
            Outcome::done()
        }
        Err(e) => Outcome::text(e),
    }
}

/// Whether the algorithm accepts any weight at run time (HAProxy's
/// `BE_LB_PROP_DYN`); map-based hashing and static-rr only take 0% or 100%,
/// consistent hashing takes any weight.
fn is_dynamic(balance: &Balance, hashing: HashMethod) -> bool {
    match balance {
        Balance::RoundRobin | Balance::LeastConn | Balance::First | Balance::Random { .. } => true,
        Balance::StaticRr => false,
        _ => hashing == HashMethod::Consistent,
    }
}

/// `<w>` (0..256) or `<w>%` of the initial weight, with HAProxy's texts.
pub fn parse_weight(text: &str, initial: u32, dynamic: bool) -> Result<u32, &'static str> {
    if text.is_empty() {
        return Err(messages::REQUIRE_WEIGHT);
    }
    let (value, rest) = strtol(text);
    let Some(value) = value else {
        return Err(messages::WEIGHT_EMPTY);
    };
    let w = if rest == "%" {
        if value < 0 {
            return Err(messages::WEIGHT_RELATIVE_NEGATIVE);
        }
        let pct = value.min(25_600);
        (i64::from(initial) * pct / 100).min(256)
    } else if !rest.is_empty() {
        return Err(messages::WEIGHT_TRAILING);
    } else if !(0..=256).contains(&value) {
        return Err(messages::WEIGHT_ABSOLUTE_RANGE);
    } else {
        value
    };
    // The range checks above keep `w` within 0..=256.
    let w = u32::try_from(w).unwrap_or(0);
    if w != 0 && w != initial && !dynamic {
        return Err(messages::WEIGHT_STATIC_ALGO);
    }
    Ok(w)
}

/// C's `strtol` in base 10: optional blanks and sign, digits (saturating);
/// `None` when there are no digits. Returns the unparsed rest.
fn strtol(text: &str) -> (Option<i64>, &str) {
    let t = text.trim_start_matches([' ', '\t']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, text);
    }
    let v = t[..digits].bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    (Some(if neg { -v } else { v }), &t[digits..])
}

pub fn disable_server(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match find_server(ctx, arg(args, 2)) {
        Ok((_, sv)) => {
            set_admin(sv, AdminState::Maint);
            Outcome::done()
        }
        Err(e) => Outcome::text(e),
    }
}

pub fn enable_server(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match find_server(ctx, arg(args, 2)) {
        Ok((_, sv)) => {
            set_admin(sv, AdminState::Ready);
            Outcome::done()
        }
        Err(e) => Outcome::text(e),
    }
}

/// Changes the admin state. A checked server leaving maintenance restarts
/// at `rise` health, so it shows `UP 1/<fall>` until its next check passes,
/// as in HAProxy.
fn set_admin(sv: &Server, state: AdminState) {
    let now = crate::clock::monotonic_ms();
    let was = sv.state.admin();
    sv.state.set_admin(state, now);
    if sv.check.is_none() && state == AdminState::Maint {
        let seen = format::stat::rows::UNCHECKED_MAINT_SEEN;
        sv.state.check_health.store(seen, Ordering::Relaxed);
    }
    if let Some(check) = sv.check
        && was == AdminState::Maint
        && state != AdminState::Maint
        && sv.state.op() == OpState::Up
    {
        sv.state.check_health.store(check.rise, Ordering::Relaxed);
    }
}

/// `set server <b>/<s> state|weight|addr ...`.
pub fn set_server(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    let (be, sv) = match find_server(ctx, arg(args, 2)) {
        Ok(found) => found,
        Err(e) => return Outcome::text(e),
    };
    match arg(args, 3) {
        "state" => {
            let state = match arg(args, 4) {
                "ready" => AdminState::Ready,
                "drain" => AdminState::Drain,
                "maint" => AdminState::Maint,
                _ => return Outcome::text(messages::SET_SERVER_STATE),
            };
            set_admin(sv, state);
            Outcome::done()
        }
        "weight" => apply_weight(be, sv, arg(args, 4)),
        "addr" => set_addr(
            sv,
            arg(args, 4),
            (arg(args, 5) == "port").then(|| arg(args, 6)),
        ),
        "agent" | "agent-addr" | "agent-port" | "agent-send" | "check-addr" | "check-port"
        | "fqdn" | "health" | "ssl" => Outcome::text(messages::NOT_SUPPORTED),
        _ => Outcome::text(messages::SET_SERVER_USAGE),
    }
}

/// `set server ... addr <ip> [port <port>]`, reporting as HAProxy does.
fn set_addr(sv: &Server, ip: &str, port: Option<&str>) -> Outcome {
    if ip.is_empty() {
        return Outcome::text(messages::SET_SERVER_ADDR_USAGE);
    }
    let Ok(new_ip) = ip.parse::<IpAddr>() else {
        return Outcome::Text(format!("Invalid addr '{ip}'{}", messages::BY_CLI));
    };
    let mut lock = sv.state.addr_override.write();
    let cur = lock.unwrap_or(sv.addr);
    let mut report = if new_ip == cur.ip() {
        String::from("no need to change the addr")
    } else {
        format!("IP changed from '{}' to '{new_ip}'", cur.ip())
    };
    let mut next = SocketAddr::new(new_ip, cur.port());
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p == cur.port() => report.push_str(", no need to change the port"),
            Ok(p) => {
                report.push_str(&format!(", port changed from '{}' to '{p}'", cur.port()));
                next.set_port(p);
            }
            Err(_) => report.push_str(&format!(", problem converting port '{port}' to an int")),
        }
    }
    *lock = (next != sv.addr).then_some(next);
    drop(lock);
    report.push_str(messages::BY_CLI);
    Outcome::Text(report)
}

pub fn shutdown_sessions(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    match find_server(ctx, arg(args, 3)) {
        Ok((_, sv)) => {
            sv.state.shutdown_sessions();
            Outcome::done()
        }
        Err(e) => Outcome::text(e),
    }
}

fn find_frontend<'p>(ctx: &'p Ctx, name: &str) -> Result<&'p Proxy, &'static str> {
    if name.is_empty() {
        return Err(messages::FRONTEND_EXPECTED);
    }
    ctx.program
        .frontends()
        .find(|p| p.name == name)
        .ok_or(messages::NO_SUCH_FRONTEND)
}

pub fn disable_frontend(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    pause_frontend(ctx, arg(args, 2), true)
}

pub fn enable_frontend(ctx: &Ctx, _: &mut Session, args: &[String]) -> Outcome {
    pause_frontend(ctx, arg(args, 2), false)
}

fn pause_frontend(ctx: &Ctx, name: &str, pause: bool) -> Outcome {
    match find_frontend(ctx, name) {
        Ok(fe) => {
            if fe.frontend_counters.paused.swap(pause, Ordering::Relaxed) == pause {
                Outcome::text(if pause {
                    messages::ALREADY_DISABLED
                } else {
                    messages::ALREADY_ENABLED
                })
            } else {
                Outcome::done()
            }
        }
        Err(e) => Outcome::text(e),
    }
}

/// `clear counters [all]`: maximums only (operator), or everything (admin).
pub fn clear_counters(ctx: &Ctx, session: &mut Session, args: &[String]) -> Outcome {
    let all = arg(args, 2) == "all";
    if all && session.level < Level::Admin {
        return Outcome::text(messages::PERMISSION_DENIED);
    }
    let now = crate::clock::monotonic_ms();
    for p in &ctx.program.proxies {
        let counters = [&p.frontend_counters, &p.backend_counters];
        let servers = p.servers.iter().map(|s| &s.state.counters);
        for c in counters.into_iter().map(|c| &**c).chain(servers) {
            if all {
                c.clear_all(now);
            } else {
                c.clear_max(now);
            }
        }
        for s in &p.servers {
            let cur = s.state.cur_conns.load(Ordering::Relaxed);
            s.state.max_conns.store(cur, Ordering::Relaxed);
        }
    }
    Outcome::done()
}

#[cfg(test)]
mod tests;
