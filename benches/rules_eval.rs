//! The rules engine on one request, the way the data plane runs it
//! (`proxy::hooks`): a frontend's `tcp-request connection`, `tcp-request
//! content` and `http-request` lists, then `use_backend` selection, on a
//! prepared request head. The frontend is `examples/lb.cfg`'s abuser setup
//! plus the usual `http-request` rules (a header match, a CIDR list, a
//! `path_beg` list, a regex, `src_get_gpc0`, `sc0_http_req_rate`).
//!
//! Two cases: a new connection with one request (fresh `RuleState`, the
//! connection rule tracks the source), and one more keep-alive request on a
//! connection whose trackers are already set. A counting global allocator
//! checks that neither case allocates once the table entry exists; the
//! counts are printed and asserted before criterion measures the time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use lbd::compile::program::{Program, Proxy, ProxyId};
use lbd::rules::action::{HttpVerdict, TcpVerdict};
use lbd::rules::ctx::{Ctx, RuleState};
use lbd::rules::expr;
use lbd::rules::message::{RequestHead, Version};
use lbd::stick::Tables;

/// The system allocator, counting allocations (including reallocations).
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter is a relaxed atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CONFIG: &str = r#"
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend http
    bind 127.0.0.1:21080
    stick-table type ip size 200k expire 10m store gpc0,http_req_rate(10s)
    acl source_is_abuser src_get_gpc0(http) gt 0
    tcp-request connection track-sc0 src if ! source_is_abuser
    acl internal src 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8
    acl api path_beg /api/ /v1/ /v2/ /internal/
    acl static path_reg -i \.(css|js|png|jpe?g|svg)$
    acl is_test1 hdr_sub(host) -i test1.com
    acl is_test2 hdr_sub(host) -i test2.com
    tcp-request content reject if { req.hdr(x-block) -m found }
    http-request deny if { req.hdr(x-forwarded-for) -m str 198.51.100.66 }
    http-request deny if api !internal { path_beg /internal/ }
    http-request deny deny_status 429 if { sc0_http_req_rate gt 1000 }
    http-request deny if { src_get_gpc0 gt 0 }
    use_backend ease-up-y0 if source_is_abuser
    use_backend static if static
    use_backend test1 if is_test1
    use_backend api if api
    use_backend test2 if is_test2
    default_backend test2

backend test1
    server test1 127.0.0.1:21081

backend test2
    server test2 127.0.0.1:21082

backend api
    server api 127.0.0.1:21083

backend static
    server static 127.0.0.1:21084

backend ease-up-y0
    http-request deny deny_status 503
"#;

fn program() -> Program {
    let loaded = lbd::config::parse_str("rules_eval.cfg", CONFIG);
    let compiled = lbd::compile::compile(&loaded.config, &loaded.source_map);
    let errors: Vec<_> = compiled.diagnostics.iter().take(3).collect();
    match compiled.program {
        Some(p) => p,
        None => panic!("the bench config must compile: {errors:?}"),
    }
}

/// A browser-like request for an API path on test2.com.
fn request() -> RequestHead {
    let mut req = RequestHead::new();
    req.set_line(b"GET", b"/api/v2/users?page=3", Version::Http11);
    req.headers.push(b"Host", b"www.test2.com");
    req.headers.push(
        b"User-Agent",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    );
    req.headers.push(b"Accept", b"application/json");
    req.headers.push(b"Accept-Encoding", b"gzip, deflate, br");
    req.headers
        .push(b"Cookie", b"session=4a1f9c2d7e; theme=dark");
    req.headers.push(b"X-Forwarded-For", b"203.0.113.9");
    req
}

/// Everything one evaluation needs.
struct Bench {
    program: Program,
    tables: Tables,
    frontend: ProxyId,
    client: SocketAddr,
    local: SocketAddr,
}

impl Bench {
    fn new() -> Bench {
        let program = program();
        let tables = Tables::new(program.tables.clone());
        let frontend = match program.find_proxy("http") {
            Some(p) => p.id,
            None => panic!("no frontend http"),
        };
        Bench {
            program,
            tables,
            frontend,
            client: SocketAddr::from(([192, 0, 2, 7], 40_123)),
            local: SocketAddr::from(([127, 0, 0, 1], 21_080)),
        }
    }

    fn frontend(&self) -> &Proxy {
        self.program.proxy(self.frontend)
    }

    /// `tcp-request connection` rules on a new connection.
    fn connect(&self, state: &mut RuleState, now_ms: u64) -> TcpVerdict {
        let mut ctx = Ctx::new(self.client, self.local, state, &self.tables, now_ms);
        self.frontend().rules.run_tcp_connection(&mut ctx)
    }

    /// One request: content and HTTP rules, then the backend; the stream's
    /// trackers and variables are released at its end.
    fn request(
        &self,
        state: &mut RuleState,
        req: &mut RequestHead,
        now_ms: u64,
    ) -> Option<ProxyId> {
        let fe = self.frontend();
        let backend = 'stream: {
            let mut ctx = Ctx::new(self.client, self.local, state, &self.tables, now_ms)
                .with_request_ref(req);
            if fe.rules.run_tcp_content(&mut ctx) == TcpVerdict::Reject {
                break 'stream None;
            }
            let mut ctx =
                Ctx::new(self.client, self.local, state, &self.tables, now_ms).with_request(req);
            if fe.rules.run_http_request(&mut ctx) != HttpVerdict::Continue {
                break 'stream None;
            }
            let rules = fe.use_backend.iter().map(|r| (r.backend, r.cond.as_ref()));
            expr::select(rules, fe.default_backend, &ctx)
        };
        state.end_stream();
        backend
    }

    /// A new connection and its first request.
    fn connection_and_request(&self, req: &mut RequestHead, now_ms: u64) -> Option<ProxyId> {
        let mut state = RuleState::new();
        if self.connect(&mut state, now_ms) == TcpVerdict::Reject {
            return None;
        }
        self.request(&mut state, req, now_ms)
    }
}

/// Allocations made by `runs` calls of `f`.
fn allocations(runs: u64, mut f: impl FnMut()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..runs {
        f();
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn rules_eval(c: &mut Criterion) {
    let bench = Bench::new();
    let mut req = request();
    let now = 1_000_000;
    let expected = bench.program.find_proxy("api").map(|p| p.id);
    assert!(expected.is_some());
    // The first connection creates the table entry (allocations allowed).
    assert_eq!(bench.connection_and_request(&mut req, now), expected);

    const RUNS: u64 = 10_000;
    let per_conn = allocations(RUNS, || {
        black_box(bench.connection_and_request(black_box(&mut req), now));
    });
    let mut state = RuleState::new();
    assert_eq!(bench.connect(&mut state, now), TcpVerdict::Continue);
    let per_req = allocations(RUNS, || {
        black_box(bench.request(&mut state, black_box(&mut req), now));
    });
    println!(
        "rules_eval allocations: {:.3} per new connection + request, {:.3} per keep-alive request ({RUNS} runs each)",
        per_conn as f64 / RUNS as f64,
        per_req as f64 / RUNS as f64,
    );
    assert_eq!(per_conn, 0, "a new connection + request allocated");
    assert_eq!(per_req, 0, "a keep-alive request allocated");

    // A quick plain-loop figure, printed next to criterion's.
    let plain = |name: &str, f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..100_000 {
            f();
        }
        println!(
            "rules_eval {name}: {:.0} ns (plain loop, 100k runs)",
            start.elapsed().as_nanos() as f64 / 100_000.0
        );
    };
    plain("new connection + request", &mut || {
        black_box(bench.connection_and_request(black_box(&mut req), now));
    });
    plain("keep-alive request", &mut || {
        black_box(bench.request(&mut state, black_box(&mut req), now));
    });

    let mut group = c.benchmark_group("rules_eval");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    group.bench_function("new_connection_and_request", |b| {
        b.iter(|| bench.connection_and_request(black_box(&mut req), now))
    });
    let mut state = RuleState::new();
    assert_eq!(bench.connect(&mut state, now), TcpVerdict::Continue);
    group.bench_function("keep_alive_request", |b| {
        b.iter(|| bench.request(&mut state, black_box(&mut req), now))
    });
    group.finish();
}

criterion_group!(benches, rules_eval);
criterion_main!(benches);
