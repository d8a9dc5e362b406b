//! `show servers state [<backend>]`: format version `1`, a `# ` header,
//! then one space-separated line per server (`-` for empty strings), with
//! HAProxy's numeric codes for states and checks.

use std::sync::atomic::Ordering;

use super::super::messages;
use super::stat::rows::health;
use crate::compile::program::{Program, Proxy, Server};
use crate::stats::{AdminState, CheckStatus, OpState};

const HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// The whole answer; `only` names one backend.
pub fn show(program: &Program, only: Option<&str>) -> String {
    let backends: Vec<&Proxy> = match only {
        Some(name) => match program.backends().find(|p| p.name == name) {
            Some(p) => vec![p],
            None => return messages::CANT_FIND_BACKEND.into(),
        },
        None => program.backends().collect(),
    };
    let now_ms = crate::clock::monotonic_ms();
    let mut out = String::from("1\n");
    out.push_str(HEADER);
    for p in backends {
        for s in &p.servers {
            line(&mut out, p, s, now_ms);
        }
    }
    out
}

fn line(out: &mut String, p: &Proxy, s: &Server, now_ms: u64) {
    let st = &s.state;
    let maint = st.admin() == AdminState::Maint;
    let op = if maint || st.op() == OpState::Down {
        0
    } else {
        2
    };
    let admin = match st.admin() {
        AdminState::Ready => 0,
        AdminState::Maint => 1,
        AdminState::Drain => 8,
    };
    let since = now_ms.saturating_sub(st.last_change_ms.load(Ordering::Relaxed)) / 1000;
    let (check_status, check_result, check_state) = match s.check {
        None => (1, 0, 0),
        Some(_) => {
            let status = st.check.status();
            let code = if status == CheckStatus::Unknown {
                1
            } else {
                status as u8
            };
            let result = match status {
                CheckStatus::Unknown => 0,
                s if s.passed() => 3,
                _ => 2,
            };
            (code, result, if maint { 14 } else { 6 })
        }
    };
    let addr = st.addr(s.addr);
    let check_port = s.check.and_then(|c| c.port).unwrap_or(0);
    out.push_str(&format!(
        "{} {} {} {} {} {op} {admin} {} {} {since} {check_status} {check_result} {} {check_state} 0 0 0 - {} - {} {check_port} - - 0\n",
        p.uuid,
        p.name,
        s.uuid,
        s.name,
        addr.ip(),
        st.weight(),
        st.initial_weight,
        health(s),
        addr.port(),
        u8::from(s.tls.is_some()),
    ));
}
