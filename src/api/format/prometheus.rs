//! The Prometheus text HAProxy 2.x's built-in exporter serves
//! (`http-request use-service prometheus-exporter`): `haproxy_process_*`,
//! `haproxy_frontend_*`, `haproxy_backend_*` and `haproxy_server_*`, with
//! `proxy` and `server` labels, from the same counters as `show stat`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::stat::rows::{server_status, usable};
use crate::compile::program::{Mode, Program, Proxy};
use crate::stats::timing::TIME_SAMPLES;
use crate::stats::{AdminState, Counters, OpState, Phases};
use crate::stick::Tables;

/// One metric family being written.
struct Family<'o> {
    out: &'o mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let done = write!(
            self.out,
            "# HELP haproxy_{name} {help}\n# TYPE haproxy_{name} {kind}\n"
        );
        debug_assert!(done.is_ok(), "writing to a String cannot fail");
    }

    /// A sample of milliseconds, written in seconds as HAProxy does
    /// (`0.051000`).
    fn seconds(&mut self, name: &str, labels: &str, ms: u32) {
        let done = writeln!(
            self.out,
            "haproxy_{name}{{{labels}}} {}.{:06}",
            ms / 1000,
            (ms % 1000) * 1000
        );
        debug_assert!(done.is_ok(), "writing to a String cannot fail");
    }

    fn sample(&mut self, name: &str, labels: &str, value: u64) {
        let done = if labels.is_empty() {
            writeln!(self.out, "haproxy_{name} {value}")
        } else {
            writeln!(self.out, "haproxy_{name}{{{labels}}} {value}")
        };
        debug_assert!(done.is_ok(), "writing to a String cannot fail");
    }
}

type Read = fn(&Counters) -> u64;
type ProxyRead = fn(&Proxy) -> u64;
type RateRead = fn(&Counters, u64) -> u32;
type ServerRead = fn(&crate::compile::program::Server) -> u64;

fn rd(c: &AtomicU64) -> u64 {
    Counters::read(c)
}

const FRONTEND: [(&str, &str, &str, Read); 11] = [
    (
        "current_sessions",
        "gauge",
        "Number of current sessions.",
        |c| u64::from(c.cur_sessions.load(Ordering::Relaxed)),
    ),
    (
        "max_sessions",
        "gauge",
        "Maximum observed number of sessions.",
        |c| u64::from(c.max_sessions.load(Ordering::Relaxed)),
    ),
    (
        "sessions_total",
        "counter",
        "Total number of sessions.",
        |c| rd(&c.sessions_total),
    ),
    (
        "bytes_in_total",
        "counter",
        "Total number of request bytes.",
        |c| rd(&c.bytes_in),
    ),
    (
        "bytes_out_total",
        "counter",
        "Total number of response bytes.",
        |c| rd(&c.bytes_out),
    ),
    (
        "requests_denied_total",
        "counter",
        "Total number of denied requests.",
        |c| rd(&c.denied_req),
    ),
    (
        "responses_denied_total",
        "counter",
        "Total number of denied responses.",
        |c| rd(&c.denied_resp),
    ),
    (
        "request_errors_total",
        "counter",
        "Total number of request errors.",
        |c| rd(&c.errors_req),
    ),
    (
        "denied_connections_total",
        "counter",
        "Total number of requests denied by \"tcp-request connection\" rules.",
        |c| rd(&c.denied_conn),
    ),
    (
        "denied_sessions_total",
        "counter",
        "Total number of requests denied by \"tcp-request session\" rules.",
        |c| rd(&c.denied_sess),
    ),
    (
        "http_requests_total",
        "counter",
        "Total number of HTTP requests received.",
        |c| rd(&c.http_requests),
    ),
];

const BACKEND: [(&str, &str, &str, Read); 12] = [
    (
        "current_sessions",
        "gauge",
        "Number of current sessions.",
        |c| u64::from(c.cur_sessions.load(Ordering::Relaxed)),
    ),
    (
        "max_sessions",
        "gauge",
        "Maximum observed number of sessions.",
        |c| u64::from(c.max_sessions.load(Ordering::Relaxed)),
    ),
    (
        "sessions_total",
        "counter",
        "Total number of sessions.",
        |c| rd(&c.sessions_total),
    ),
    (
        "bytes_in_total",
        "counter",
        "Total number of request bytes.",
        |c| rd(&c.bytes_in),
    ),
    (
        "bytes_out_total",
        "counter",
        "Total number of response bytes.",
        |c| rd(&c.bytes_out),
    ),
    (
        "responses_denied_total",
        "counter",
        "Total number of denied responses.",
        |c| rd(&c.denied_resp),
    ),
    (
        "connection_errors_total",
        "counter",
        "Total number of connection errors.",
        |c| rd(&c.errors_conn),
    ),
    (
        "response_errors_total",
        "counter",
        "Total number of response errors.",
        |c| rd(&c.errors_resp),
    ),
    (
        "retry_warnings_total",
        "counter",
        "Total number of retry warnings.",
        |c| rd(&c.retries),
    ),
    (
        "redispatch_warnings_total",
        "counter",
        "Total number of redispatch warnings.",
        |c| rd(&c.redispatches),
    ),
    (
        "loadbalanced_total",
        "counter",
        "Total number of times a service was selected.",
        |c| rd(&c.lb_total),
    ),
    (
        "http_requests_total",
        "counter",
        "Total number of HTTP requests received.",
        |c| rd(&c.http_requests),
    ),
];

const CODES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// The whole exposition text.
pub fn prometheus(program: &Program, tables: &Tables) -> String {
    let mut out = String::with_capacity(8192);
    let mut f = Family { out: &mut out };
    process(&mut f, program);
    frontends(&mut f, program);
    backends(&mut f, program);
    servers(&mut f, program);
    sticktables(&mut f, tables);
    out
}

fn process(f: &mut Family<'_>, program: &Program) {
    let up = crate::clock::process_start().elapsed().as_secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    f.head(
        "process_start_time_seconds",
        "gauge",
        "Start time in seconds.",
    );
    f.sample("process_start_time_seconds", "", now.saturating_sub(up));
    f.head(
        "process_max_connections",
        "gauge",
        "Maximum number of concurrent connections.",
    );
    f.sample(
        "process_max_connections",
        "",
        u64::from(program.global.maxconn),
    );
    let cur: u64 = program
        .frontends()
        .map(|p| u64::from(p.frontend_counters.cur_sessions.load(Ordering::Relaxed)))
        .sum();
    f.head(
        "process_uptime_seconds",
        "gauge",
        "How long ago this worker process was started (seconds).",
    );
    f.sample("process_uptime_seconds", "", up);
    let threads = program.global.nbthread.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        u64::from,
    );
    f.head(
        "process_nbthread",
        "gauge",
        "Number of started threads (global.nbthread).",
    );
    f.sample("process_nbthread", "", threads);
    f.head(
        "process_current_connections",
        "gauge",
        "Number of active sessions.",
    );
    f.sample("process_current_connections", "", cur);
}

fn proxy_label(p: &Proxy) -> String {
    format!("proxy=\"{}\"", escape(&p.name))
}

fn frontends(f: &mut Family<'_>, program: &Program) {
    f.head("frontend_status", "gauge", "Current status of the service.");
    for p in program.frontends() {
        let up = !p.frontend_counters.is_paused();
        let label = proxy_label(p);
        f.sample(
            "frontend_status",
            &format!("{label},state=\"DOWN\""),
            u64::from(!up),
        );
        f.sample(
            "frontend_status",
            &format!("{label},state=\"UP\""),
            u64::from(up),
        );
    }
    for (name, kind, help, read) in FRONTEND {
        let metric = format!("frontend_{name}");
        f.head(&metric, kind, help);
        for p in program.frontends() {
            f.sample(&metric, &proxy_label(p), read(&p.frontend_counters));
        }
    }
    let now_ms = crate::clock::monotonic_ms();
    let rates: [(&str, &str, RateRead); 3] = [
        (
            "current_session_rate",
            "Current number of sessions per second over last elapsed second.",
            |c, now| c.session_rate.read(now),
        ),
        (
            "max_session_rate",
            "Maximum observed number of sessions per second.",
            |c, _| c.session_rate.max(),
        ),
        (
            "http_requests_rate_max",
            "Maximum observed number of HTTP requests per second.",
            |c, _| c.request_rate.max(),
        ),
    ];
    for (name, help, read) in rates {
        let metric = format!("frontend_{name}");
        f.head(&metric, "gauge", help);
        for p in program.frontends() {
            f.sample(
                &metric,
                &proxy_label(p),
                u64::from(read(&p.frontend_counters, now_ms)),
            );
        }
    }
    responses(
        f,
        "frontend",
        program
            .frontends()
            .filter(|p| p.mode == Mode::Http)
            .map(|p| (proxy_label(p), &*p.frontend_counters)),
    );
}

fn backends(f: &mut Family<'_>, program: &Program) {
    f.head("backend_status", "gauge", "Current status of the service.");
    for p in program.backends() {
        let (_, act, bck) = usable(p);
        let up = p.servers.is_empty() || act + bck > 0;
        let label = proxy_label(p);
        f.sample(
            "backend_status",
            &format!("{label},state=\"DOWN\""),
            u64::from(!up),
        );
        f.sample(
            "backend_status",
            &format!("{label},state=\"UP\""),
            u64::from(up),
        );
    }
    let weights: [(&str, &str, ProxyRead); 3] = [
        ("weight", "Service total weight.", |p| usable(p).0),
        ("active_servers", "Current number of active servers.", |p| {
            usable(p).1
        }),
        ("backup_servers", "Current number of backup servers.", |p| {
            usable(p).2
        }),
    ];
    for (name, help, read) in weights {
        let metric = format!("backend_{name}");
        f.head(&metric, "gauge", help);
        for p in program.backends() {
            f.sample(&metric, &proxy_label(p), read(p));
        }
    }
    for (name, kind, help, read) in BACKEND {
        let metric = format!("backend_{name}");
        f.head(&metric, kind, help);
        for p in program.backends() {
            f.sample(&metric, &proxy_label(p), read(&p.backend_counters));
        }
    }
    responses(
        f,
        "backend",
        program
            .backends()
            .filter(|p| p.mode == Mode::Http)
            .map(|p| (proxy_label(p), &*p.backend_counters)),
    );
    let rows: Vec<(String, &Counters)> = program
        .backends()
        .map(|p| (proxy_label(p), &*p.backend_counters))
        .collect();
    times(f, "backend", &rows);
}

fn servers(f: &mut Family<'_>, program: &Program) {
    let all = || {
        program.backends().flat_map(|p| {
            p.servers.iter().map(move |s| {
                (
                    format!("{},server=\"{}\"", proxy_label(p), escape(&s.name)),
                    p,
                    s,
                )
            })
        })
    };
    f.head("server_status", "gauge", "Current status of the service.");
    for (labels, _, s) in all() {
        let status = server_status(s);
        for state in ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] {
            let on = match state {
                "UP" => s.state.op() == OpState::Up && s.state.admin() == AdminState::Ready,
                "DOWN" => s.state.op() == OpState::Down && s.state.admin() != AdminState::Maint,
                "MAINT" => status == "MAINT",
                "DRAIN" => status == "DRAIN",
                _ => false,
            };
            f.sample(
                "server_status",
                &format!("{labels},state=\"{state}\""),
                u64::from(on),
            );
        }
    }
    let gauges: [(&str, &str, &str, ServerRead); 4] = [
        ("weight", "gauge", "Service total weight.", |s| {
            u64::from(s.state.weight())
        }),
        (
            "current_sessions",
            "gauge",
            "Number of current sessions.",
            |s| u64::from(s.state.cur_conns.load(Ordering::Relaxed)),
        ),
        (
            "max_sessions",
            "gauge",
            "Maximum observed number of sessions.",
            |s| u64::from(s.state.max_conns.load(Ordering::Relaxed)),
        ),
        (
            "current_queue",
            "gauge",
            "Number of current queued connections.",
            |s| u64::from(s.state.queued.load(Ordering::Relaxed)),
        ),
    ];
    for (name, kind, help, read) in gauges {
        let metric = format!("server_{name}");
        f.head(&metric, kind, help);
        for (labels, _, s) in all() {
            f.sample(&metric, &labels, read(s));
        }
    }
    let counters: [(&str, &str, Read); 8] = [
        ("sessions_total", "Total number of sessions.", |c| {
            rd(&c.sessions_total)
        }),
        ("bytes_in_total", "Total number of request bytes.", |c| {
            rd(&c.bytes_in)
        }),
        ("bytes_out_total", "Total number of response bytes.", |c| {
            rd(&c.bytes_out)
        }),
        (
            "connection_errors_total",
            "Total number of connection errors.",
            |c| rd(&c.errors_conn),
        ),
        (
            "response_errors_total",
            "Total number of response errors.",
            |c| rd(&c.errors_resp),
        ),
        (
            "check_failures_total",
            "Total number of failed individual health checks.",
            |c| rd(&c.check_failures),
        ),
        (
            "check_up_down_total",
            "Total number of failed checks causing UP to DOWN server transitions.",
            |c| rd(&c.check_downs),
        ),
        (
            "loadbalanced_total",
            "Total number of times a service was selected.",
            |c| rd(&c.lb_total),
        ),
    ];
    for (name, help, read) in counters {
        let metric = format!("server_{name}");
        f.head(&metric, "counter", help);
        for (labels, _, s) in all() {
            f.sample(&metric, &labels, read(&s.state.counters));
        }
    }
    responses(
        f,
        "server",
        all()
            .filter(|(_, p, _)| p.mode == Mode::Http)
            .map(|(l, _, s)| (l, &s.state.counters)),
    );
    let rows: Vec<(String, &Counters)> = all().map(|(l, _, s)| (l, &s.state.counters)).collect();
    times(f, "server", &rows);
}

/// The phase times of backends or servers: averages (HAProxy's exporter
/// always divides by the full 1024-request window) and maxima, in seconds.
fn times(f: &mut Family<'_>, kind: &str, rows: &[(String, &Counters)]) {
    type Pick = fn(&Phases) -> u32;
    const AVERAGES: [(&str, &str, Pick); 4] = [
        ("queue_time_average_seconds", "queue", |p| p.queue_ms),
        ("connect_time_average_seconds", "connect", |p| p.connect_ms),
        ("response_time_average_seconds", "response", |p| {
            p.response_ms
        }),
        ("total_time_average_seconds", "total", |p| p.total_ms),
    ];
    const MAXIMA: [(&str, &str, Pick); 4] = [
        (
            "max_queue_time_seconds",
            "Maximum observed time spent in the queue",
            |p| p.queue_ms,
        ),
        (
            "max_connect_time_seconds",
            "Maximum observed time spent waiting for a connection to complete",
            |p| p.connect_ms,
        ),
        (
            "max_response_time_seconds",
            "Maximum observed time spent waiting for a server response",
            |p| p.response_ms,
        ),
        (
            "max_total_time_seconds",
            "Maximum observed total request+response time (request+queue+connect+response+processing)",
            |p| p.total_ms,
        ),
    ];
    let window = u64::from(TIME_SAMPLES);
    for (name, what, pick) in AVERAGES {
        let metric = format!("{kind}_{name}");
        let help = format!("Avg. {what} time for last 1024 successful connections.");
        f.head(&metric, "gauge", &help);
        for (labels, c) in rows {
            f.seconds(&metric, labels, pick(&c.times.averages(window)));
        }
    }
    for (name, help, pick) in MAXIMA {
        let metric = format!("{kind}_{name}");
        f.head(&metric, "gauge", help);
        for (labels, c) in rows {
            f.seconds(&metric, labels, pick(&c.times.maxima()));
        }
    }
}

fn responses<'c>(
    f: &mut Family<'_>,
    kind: &str,
    rows: impl Iterator<Item = (String, &'c Counters)>,
) {
    let metric = format!("{kind}_http_responses_total");
    f.head(&metric, "counter", "Total number of HTTP responses.");
    for (labels, c) in rows {
        for (code, n) in CODES.iter().zip(&c.http_responses) {
            f.sample(&metric, &format!("{labels},code=\"{code}\""), rd(n));
        }
    }
}

fn sticktables(f: &mut Family<'_>, tables: &Tables) {
    f.head("sticktable_size", "gauge", "Stick table size.");
    for (_, t) in tables.iter() {
        f.sample("sticktable_size", &table_labels(t), t.size() as u64);
    }
    f.head(
        "sticktable_used",
        "gauge",
        "Number of entries used in this stick table.",
    );
    for (_, t) in tables.iter() {
        f.sample("sticktable_used", &table_labels(t), t.len() as u64);
    }
}

fn table_labels(t: &crate::stick::Table) -> String {
    let kind = t.spec().key_type.as_keyword();
    format!("name=\"{}\",type=\"{kind}\"", escape(t.name()))
}

/// Label values escape `\`, `"` and newlines.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
