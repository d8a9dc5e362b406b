//! Building the cells of one `show stat` row from the live counters.
//!
//! lbd does not measure everything HAProxy does: per-mux counters and
//! compression read 0, and `lastsess`
//! reads -1 before the first session and 0 after. The cells are present or
//! empty exactly where HAProxy's are.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use crate::compile::program::{Mode, Program, Proxy, Server};
use crate::stats::names::col;
use crate::stats::{AdminState, CheckStatus, Counters, OpState};

/// One cell of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    Empty,
    U(u64),
    I(i64),
    S(Cow<'a, str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Frontend,
    Backend,
    Server,
}

/// A row: its kind, proxy and server ids, and 128 cells.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub kind: RowKind,
    pub iid: u32,
    pub sid: u32,
    pub cells: Vec<Cell<'a>>,
}

impl<'a> Row<'a> {
    fn new(kind: RowKind, p: &'a Proxy, svname: &'a str, sid: u32) -> Row<'a> {
        let mut cells = vec![Cell::Empty; 128];
        cells[col::PXNAME] = Cell::S(Cow::Borrowed(&p.name));
        cells[col::SVNAME] = Cell::S(Cow::Borrowed(svname));
        cells[col::PID] = Cell::U(1);
        cells[col::IID] = Cell::U(u64::from(p.uuid));
        cells[col::SID] = Cell::U(u64::from(sid));
        cells[col::TYPE] = Cell::U(match kind {
            RowKind::Frontend => 0,
            RowKind::Backend => 1,
            RowKind::Server => 2,
        });
        cells[col::MODE] = Cell::S(Cow::Borrowed(super::mode(p)));
        cells[col::SEP] = Cell::S(Cow::Borrowed("-"));
        Row {
            kind,
            iid: p.uuid,
            sid,
            cells,
        }
    }

    fn set(&mut self, at: usize, v: u64) {
        self.cells[at] = Cell::U(v);
    }

    fn zero(&mut self, cols: impl IntoIterator<Item = usize>) {
        for c in cols {
            self.cells[c] = Cell::U(0);
        }
    }

    fn text(&mut self, at: usize, s: impl Into<Cow<'a, str>>) {
        self.cells[at] = Cell::S(s.into());
    }

    /// The value of a cell as text (empty when empty).
    pub fn get(&self, at: usize) -> String {
        match &self.cells[at] {
            Cell::Empty => String::new(),
            Cell::U(v) => v.to_string(),
            Cell::I(v) => v.to_string(),
            Cell::S(s) => s.to_string(),
        }
    }
}

fn rd(c: &std::sync::atomic::AtomicU64) -> u64 {
    Counters::read(c)
}

/// Traffic cells shared by every kind.
fn traffic(row: &mut Row<'_>, c: &Counters, now_ms: u64) {
    row.set(col::SCUR, u64::from(c.cur_sessions.load(Ordering::Relaxed)));
    row.set(col::SMAX, u64::from(c.max_sessions.load(Ordering::Relaxed)));
    row.set(col::STOT, rd(&c.sessions_total));
    row.set(col::BIN, rd(&c.bytes_in));
    row.set(col::BOUT, rd(&c.bytes_out));
    row.set(col::DRESP, rd(&c.denied_resp));
    row.set(col::RATE, u64::from(c.session_rate.read(now_ms)));
    row.set(col::RATE_MAX, u64::from(c.session_rate.max()));
    row.zero([col::WREW, col::EINT]);
}

fn http_responses(row: &mut Row<'_>, c: &Counters) {
    let cols = [
        col::HRSP_1XX,
        col::HRSP_2XX,
        col::HRSP_3XX,
        col::HRSP_4XX,
        col::HRSP_5XX,
        col::HRSP_OTHER,
    ];
    for (at, n) in cols.into_iter().zip(&c.http_responses) {
        row.set(at, rd(n));
    }
}

/// Per-module counters (ssl, h2, h1) of frontends and backends.
fn modules(row: &mut Row<'_>, c: &Counters) {
    row.zero(col::SSL_SESS..=col::H1_SPLICED_BYTES_OUT);
    row.set(col::H1_TOTAL_CONNECTIONS, rd(&c.sessions_total));
    row.set(col::H1_TOTAL_STREAMS, rd(&c.http_requests));
    row.set(col::H1_BYTES_IN, rd(&c.bytes_in));
    row.set(col::H1_BYTES_OUT, rd(&c.bytes_out));
}

/// The frontend side of a proxy.
pub fn frontend_row<'a>(program: &Program, p: &'a Proxy, now_ms: u64) -> Row<'a> {
    let c = &*p.frontend_counters;
    let mut row = Row::new(RowKind::Frontend, p, "FRONTEND", 0);
    traffic(&mut row, c, now_ms);
    let slim = if p.maxconn > 0 {
        p.maxconn
    } else {
        program.global.maxconn
    };
    row.set(col::SLIM, u64::from(slim));
    row.set(col::DREQ, rd(&c.denied_req));
    row.set(col::EREQ, rd(&c.errors_req));
    row.text(col::STATUS, if c.is_paused() { "PAUSED" } else { "OPEN" });
    row.zero([col::RATE_LIM]);
    row.set(col::REQ_RATE, u64::from(c.request_rate.read(now_ms)));
    row.set(col::REQ_RATE_MAX, u64::from(c.request_rate.max()));
    row.set(col::CONN_RATE, u64::from(c.session_rate.read(now_ms)));
    row.set(col::CONN_RATE_MAX, u64::from(c.session_rate.max()));
    row.zero(col::COMP_IN..=col::COMP_RSP);
    row.set(col::REQ_TOT, rd(&c.http_requests));
    row.set(col::CONN_TOT, rd(&c.sessions_total));
    row.set(col::DCON, rd(&c.denied_conn));
    row.set(col::DSES, rd(&c.denied_sess));
    if p.mode == Mode::Http {
        http_responses(&mut row, c);
        row.zero([col::INTERCEPTED, col::CACHE_LOOKUPS, col::CACHE_HITS]);
    }
    modules(&mut row, c);
    row
}

/// Cells shared by backends and servers.
fn backend_side(row: &mut Row<'_>, c: &Counters, mode: Mode, now_ms: u64) {
    traffic(row, c, now_ms);
    row.zero([col::QCUR, col::QMAX, col::REUSE]);
    row.set(col::ECON, rd(&c.errors_conn));
    row.set(col::ERESP, rd(&c.errors_resp));
    row.set(col::WRETR, rd(&c.retries));
    row.set(col::WREDIS, rd(&c.redispatches));
    row.set(col::LBTOT, rd(&c.lb_total));
    row.set(col::CLI_ABRT, rd(&c.client_aborts));
    row.set(col::SRV_ABRT, rd(&c.server_aborts));
    row.set(col::CONNECT, rd(&c.lb_total));
    let lastsess = if rd(&c.sessions_total) == 0 { -1 } else { 0 };
    row.cells[col::LASTSESS] = Cell::I(lastsess);
    if mode == Mode::Http {
        http_responses(row, c);
        row.set(col::REQ_TOT, rd(&c.http_requests));
    }
}

/// `qtime` ... `ttime` (averages over `requests`, at most the last 1024)
/// and `qtime_max` ... `ttime_max`.
fn times(row: &mut Row<'_>, c: &Counters, requests: u64) {
    let avg = c.times.averages(requests);
    let max = c.times.maxima();
    let cells = [
        (col::QTIME, avg.queue_ms),
        (col::CTIME, avg.connect_ms),
        (col::RTIME, avg.response_ms),
        (col::TTIME, avg.total_ms),
        (col::QTIME_MAX, max.queue_ms),
        (col::CTIME_MAX, max.connect_ms),
        (col::RTIME_MAX, max.response_ms),
        (col::TTIME_MAX, max.total_ms),
    ];
    for (at, v) in cells {
        row.set(at, u64::from(v));
    }
}

/// The requests a server's averages are divided by: HTTP responses it gave
/// (HAProxy's server `cum_req`), or connections sent to it in TCP.
pub fn server_requests(p: &Proxy, s: &Server) -> u64 {
    let c = &s.state.counters;
    match p.mode {
        Mode::Http => c.responses(),
        Mode::Tcp => rd(&c.lb_total),
    }
}

/// The requests a backend's averages are divided by: its HTTP requests, or
/// the connections it balanced in TCP.
pub fn backend_requests(p: &Proxy) -> u64 {
    match p.mode {
        Mode::Http => rd(&p.backend_counters.http_requests),
        Mode::Tcp => p
            .servers
            .iter()
            .map(|s| rd(&s.state.counters.lb_total))
            .sum::<u64>()
            .max(rd(&p.backend_counters.lb_total)),
    }
}

/// `check_health` as HAProxy counts it: 0..rise-1 down, rise..rise+fall-1
/// up. lbd's checker leaves it below `rise` for a server that has been up
/// from the start, which HAProxy shows as fully up.
pub fn health(s: &Server) -> u32 {
    let h = s.state.check_health.load(Ordering::Relaxed);
    let Some(c) = s.check else {
        // HAProxy starts unchecked servers at the default `rise` and zeroes
        // it for good when they enter maintenance.
        return if h == UNCHECKED_MAINT_SEEN { 0 } else { 2 };
    };
    let top = c.rise + c.fall - 1;
    if s.state.admin() == AdminState::Maint {
        0
    } else if s.state.op() == OpState::Up && h < c.rise {
        top
    } else {
        h.min(top)
    }
}

/// `check_health` of a server without `check` once it has been in
/// maintenance (no checker ever writes it for such a server).
pub const UNCHECKED_MAINT_SEEN: u32 = u32::MAX;

/// The `status` column of a server.
pub fn server_status(s: &Server) -> String {
    let st = &s.state;
    match (st.admin(), st.op(), s.check) {
        (AdminState::Maint, _, _) => "MAINT".into(),
        (AdminState::Drain, OpState::Up, _) => "DRAIN".into(),
        (_, OpState::Down, None) => "DOWN".into(),
        (_, OpState::Up, None) => "no check".into(),
        (_, op, Some(c)) => {
            let h = health(s);
            let top = c.rise + c.fall - 1;
            match op {
                OpState::Up if h >= top => "UP".into(),
                OpState::Up => format!("UP {}/{}", top - h, c.fall),
                OpState::Down if h == 0 => "DOWN".into(),
                OpState::Down => format!("DOWN {h}/{}", c.rise),
            }
        }
    }
}

/// A server line.
pub fn server_row<'a>(_program: &Program, p: &'a Proxy, s: &'a Server, now_ms: u64) -> Row<'a> {
    let st = &s.state;
    let mut row = Row::new(RowKind::Server, p, &s.name, s.uuid);
    backend_side(&mut row, &st.counters, p.mode, now_ms);
    times(&mut row, &st.counters, server_requests(p, s));
    if p.mode == Mode::Http {
        // A server's `req_tot` counts the responses it gave.
        row.set(col::REQ_TOT, st.counters.responses());
    }
    row.set(col::SCUR, u64::from(st.cur_conns.load(Ordering::Relaxed)));
    row.set(col::SMAX, u64::from(st.max_conns.load(Ordering::Relaxed)));
    row.set(col::QCUR, u64::from(st.queued.load(Ordering::Relaxed)));
    if s.maxconn > 0 {
        row.set(col::SLIM, u64::from(s.maxconn));
    }
    row.text(col::STATUS, server_status(s));
    row.set(col::WEIGHT, u64::from(st.weight()));
    row.set(col::UWEIGHT, u64::from(st.weight()));
    row.set(col::ACT, u64::from(!s.backup));
    row.set(col::BCK, u64::from(s.backup));
    row.set(
        col::LASTCHG,
        since_s(st.last_change_ms.load(Ordering::Relaxed), now_ms),
    );
    row.text(col::ADDR, st.addr(s.addr).to_string());
    row.zero([
        col::SRV_ICUR,
        col::IDLE_CONN_CUR,
        col::SAFE_CONN_CUR,
        col::USED_CONN_CUR,
        col::NEED_CONN_EST,
    ]);
    row.zero(col::SSL_SESS..=col::SSL_FAILED_HANDSHAKE);
    if let Some(check) = s.check {
        row.set(col::CHKFAIL, rd(&st.counters.check_failures));
        row.set(col::CHKDOWN, rd(&st.counters.check_downs));
        row.set(col::DOWNTIME, 0);
        if st.admin() != AdminState::Maint {
            check_cells(&mut row, s, check.rise, check.fall);
        }
    }
    row
}

fn check_cells(row: &mut Row<'_>, s: &Server, rise: u32, fall: u32) {
    let result = &s.state.check;
    let status = result.status();
    if status == CheckStatus::Unknown {
        row.text(col::CHECK_STATUS, "INI");
        row.text(col::CHECK_DESC, "Initializing");
    } else {
        row.text(col::CHECK_STATUS, status.as_keyword());
        row.text(col::CHECK_DESC, status.description());
        row.set(
            col::CHECK_DURATION,
            u64::from(result.duration_ms.load(Ordering::Relaxed)),
        );
        let code = result.code.load(Ordering::Relaxed);
        if matches!(status, CheckStatus::L7Ok | CheckStatus::L7Sts) && code > 0 {
            row.set(col::CHECK_CODE, u64::from(code));
        }
    }
    row.set(col::CHECK_RISE, u64::from(rise));
    row.set(col::CHECK_FALL, u64::from(fall));
    row.set(col::CHECK_HEALTH, u64::from(health(s)));
}

/// Weight and count of the servers taking traffic: (weight, act, bck).
pub fn usable(p: &Proxy) -> (u64, u64, u64) {
    let (mut weight, mut act, mut bck, mut bck_weight) = (0, 0, 0, 0);
    for s in p.servers.iter().filter(|s| s.state.is_usable()) {
        if s.backup {
            bck += 1;
            bck_weight += u64::from(s.state.weight());
        } else {
            act += 1;
            weight += u64::from(s.state.weight());
        }
    }
    if act == 0 {
        weight = bck_weight;
    }
    (weight, act, bck)
}

/// The backend summary line.
pub fn backend_row<'a>(program: &Program, p: &'a Proxy, now_ms: u64) -> Row<'a> {
    let c = &*p.backend_counters;
    let mut row = Row::new(RowKind::Backend, p, "BACKEND", 0);
    backend_side(&mut row, c, p.mode, now_ms);
    times(&mut row, c, backend_requests(p));
    row.set(col::SLIM, fullconn(program, p));
    row.text(col::ALGO, p.balance.as_keyword());
    row.set(col::DREQ, rd(&c.denied_req));
    let (weight, act, bck) = usable(p);
    let up = p.servers.is_empty() || act + bck > 0;
    row.text(col::STATUS, if up { "UP" } else { "DOWN" });
    row.set(col::WEIGHT, weight);
    row.set(col::UWEIGHT, weight);
    row.set(col::ACT, act);
    row.set(col::BCK, bck);
    row.set(col::CHKDOWN, rd(&c.check_downs));
    // Each choice of a server is one for the backend too.
    let chosen = p
        .servers
        .iter()
        .map(|s| rd(&s.state.counters.lb_total))
        .sum::<u64>()
        .max(rd(&c.lb_total));
    row.set(col::LBTOT, chosen);
    row.set(col::CONNECT, chosen);
    let lastchg = p
        .servers
        .iter()
        .map(|s| since_s(s.state.last_change_ms.load(Ordering::Relaxed), now_ms))
        .min()
        .unwrap_or(now_ms / 1000);
    row.set(col::LASTCHG, lastchg);
    if !p.servers.is_empty() {
        row.set(col::DOWNTIME, 0);
    }
    row.zero(col::COMP_IN..=col::COMP_RSP);
    row.zero(col::AGG_SERVER_STATUS..=col::AGG_CHECK_STATUS);
    if p.mode == Mode::Http {
        row.zero([col::CACHE_LOOKUPS, col::CACHE_HITS]);
    }
    modules(&mut row, c);
    row
}

/// `slim` of a backend: HAProxy's default `fullconn`, a tenth (rounded up)
/// of the `maxconn` of the frontends that can route to it.
fn fullconn(program: &Program, be: &Proxy) -> u64 {
    let total: u64 = program
        .frontends()
        .filter(|fe| {
            fe.id == be.id
                || fe.default_backend == Some(be.id)
                || fe.use_backend.iter().any(|u| u.backend == be.id)
        })
        .map(|fe| {
            u64::from(if fe.maxconn > 0 {
                fe.maxconn
            } else {
                program.global.maxconn
            })
        })
        .sum();
    total.div_ceil(10)
}

fn since_s(then_ms: u64, now_ms: u64) -> u64 {
    now_ms.saturating_sub(then_ms) / 1000
}
