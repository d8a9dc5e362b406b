//! The compiled, name-resolved configuration the data plane runs.
//!
//! A `Program` is immutable and `Send + Sync`. A connection takes one
//! `Arc<Program>` at accept and keeps it to the end. Live numbers (server
//! state, counters) are reached through `Arc`s so that they outlive a reload.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::rules::ProxyRules;
use crate::rules::expr::Cond;
use crate::stats::{Counters, ServerState};
use crate::stick::{TableId, TableSpec};

/// Index of a proxy (frontend, backend or listen) in `Program::proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProxyId(pub u32);

/// Index of a userlist in `Program::userlists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserlistId(pub u32);

/// The whole compiled configuration.
#[derive(Debug)]
pub struct Program {
    pub global: Global,
    /// Every proxy in declaration order.
    pub proxies: Vec<Proxy>,
    /// Every stick table in declaration order (`TableId` indexes it).
    pub tables: Vec<TableSpec>,
    pub userlists: Vec<Userlist>,
}

impl Program {
    pub fn proxy(&self, id: ProxyId) -> &Proxy {
        // ProxyIds are only created by the compiler for this program.
        &self.proxies[id.0 as usize]
    }

    pub fn find_proxy(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.name == name)
    }

    pub fn frontends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.cap.frontend)
    }

    pub fn backends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.cap.backend)
    }

    pub fn table(&self, id: TableId) -> &TableSpec {
        &self.tables[id.0 as usize]
    }

    pub fn find_table(&self, name: &str) -> Option<TableId> {
        self.tables
            .iter()
            .position(|t| t.name == name)
            .map(|i| TableId(i as u32))
    }

    pub fn userlist(&self, id: UserlistId) -> &Userlist {
        &self.userlists[id.0 as usize]
    }
}

/// The `global` section.
#[derive(Debug, Clone)]
pub struct Global {
    pub daemon: bool,
    /// `maxconn`: connections across all frontends and workers.
    pub maxconn: u32,
    /// Worker threads; `None` = one per core.
    pub nbthread: Option<u32>,
    pub stats_sockets: Vec<StatsSocket>,
    /// Idle timeout of runtime API connections (`stats timeout`, 10 s by default).
    pub stats_timeout_ms: u64,
    pub logs: Vec<LogTarget>,
    pub pidfile: Option<PathBuf>,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `tune.bufsize`: the largest request or response head accepted.
    pub tune_bufsize: u32,
    /// `tune.maxrewrite`: room kept for header rewrites.
    pub tune_maxrewrite: u32,
    pub hard_stop_after_ms: Option<u64>,
    /// `nosplice`: tunnels copy through buffers instead of splicing.
    pub nosplice: bool,
    /// `maxpipes`: pipes for splicing; `None` = a quarter of `maxconn`.
    pub maxpipes: Option<u32>,
    /// `tune.pipesize` in bytes; 0 keeps the kernel's pipe size.
    pub tune_pipesize: u32,
    pub ssl_default_bind_options: Vec<String>,
    pub ssl_default_bind_ciphers: Option<String>,
    pub ssl_default_bind_ciphersuites: Option<String>,
    /// `node`: the name `show info` reports (`None`: the host name).
    pub node: Option<String>,
    /// `description`: shown by `show info` when set.
    pub description: Option<String>,
}

impl Global {
    /// `maxpipes`, or HAProxy's default of a quarter of `maxconn`.
    pub fn max_pipes(&self) -> u32 {
        self.maxpipes.unwrap_or(self.maxconn / 4)
    }
}

impl Default for Global {
    fn default() -> Global {
        Global {
            daemon: false,
            maxconn: DEFAULT_MAXCONN,
            nbthread: None,
            stats_sockets: Vec::new(),
            stats_timeout_ms: 10_000,
            logs: Vec::new(),
            pidfile: None,
            user: None,
            group: None,
            tune_bufsize: 16_384,
            tune_maxrewrite: 1_024,
            hard_stop_after_ms: None,
            nosplice: false,
            maxpipes: None,
            tune_pipesize: 0,
            ssl_default_bind_options: Vec::new(),
            ssl_default_bind_ciphers: None,
            ssl_default_bind_ciphersuites: None,
            node: None,
            description: None,
        }
    }
}

/// The `maxconn` used when the configuration sets none.
pub const DEFAULT_MAXCONN: u32 = 4_096;

/// Access level of a runtime API socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    pub fn as_keyword(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// `stats socket <path> [mode M] [level L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub path: PathBuf,
    /// File mode (octal in the configuration), `None` = umask default.
    pub mode: Option<u32>,
    pub level: Level,
}

/// Where `log` sends messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDestination {
    Stdout,
    Stderr,
    Udp(SocketAddr),
    Unix(PathBuf),
}

/// `log <target> [len N] [format F] <facility> [max level [min level]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub destination: LogDestination,
    /// `format F`: the header put before each message.
    pub format: LogHeader,
    pub facility: String,
    pub max_level: Option<String>,
}

/// `log ... format <F>`: what comes before the message on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogHeader {
    /// `<PRI>Mmm dd hh:mm:ss tag[pid]: ` (HAProxy's default).
    #[default]
    Rfc3164,
    /// `<PRI>` only.
    Short,
    /// The message alone.
    Raw,
}

impl LogHeader {
    pub fn from_keyword(word: &str) -> Option<LogHeader> {
        match word {
            "rfc3164" => Some(LogHeader::Rfc3164),
            "short" => Some(LogHeader::Short),
            "raw" => Some(LogHeader::Raw),
            _ => None,
        }
    }
}

/// `mode tcp|http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tcp,
    Http,
}

impl Mode {
    pub fn as_keyword(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
        }
    }
}

/// Which side(s) a proxy plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub frontend: bool,
    pub backend: bool,
}

/// The section a proxy was declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn as_keyword(self) -> &'static str {
        match self {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
}

/// A frontend, a backend, or a listen section (both at once).
#[derive(Debug)]
pub struct Proxy {
    pub id: ProxyId,
    /// HAProxy's numeric proxy id (`iid` in `show stat`).
    pub uuid: u32,
    pub name: String,
    pub kind: ProxyKind,
    pub cap: Cap,
    pub mode: Mode,
    /// `disabled`: the proxy is declared but not started.
    pub disabled: bool,
    pub binds: Vec<Bind>,
    /// Frontend `maxconn`: concurrent connections across workers.
    pub maxconn: u32,
    /// Backend `fullconn` is not supported; `maxconn` of the backend side is
    /// the queue bound HAProxy derives, kept here for `show stat` (`slim`).
    pub timeouts: Timeouts,
    pub retries: u32,
    pub options: Options,
    pub balance: Balance,
    /// `hash-type`: how `source`, `uri`, `url_param` and `hdr` hash.
    pub hash_type: HashType,
    pub servers: Vec<Server>,
    pub health_check: HealthCheck,
    pub default_backend: Option<ProxyId>,
    /// `use_backend` rules, in order, evaluated after the request rules.
    pub use_backend: Vec<UseBackend>,
    /// The proxy's own stick table (`stick-table` line), named after it.
    pub table: Option<TableId>,
    /// Request/response rule lists (`tcp-request`, `http-request`, ...).
    pub rules: ProxyRules,
    pub errorfiles: ErrorFiles,
    pub stats_page: Option<StatsPage>,
    pub compression: Option<Compression>,
    pub logs: Vec<LogTarget>,
    /// Live counters of the frontend side.
    pub frontend_counters: Arc<Counters>,
    /// Live counters of the backend side.
    pub backend_counters: Arc<Counters>,
}

impl Proxy {
    pub fn find_server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// All proxy timeouts, in milliseconds; `None` = not set (infinite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect_ms: Option<u64>,
    pub client_ms: Option<u64>,
    pub server_ms: Option<u64>,
    pub http_request_ms: Option<u64>,
    pub http_keep_alive_ms: Option<u64>,
    pub queue_ms: Option<u64>,
    pub tunnel_ms: Option<u64>,
    pub check_ms: Option<u64>,
    pub client_fin_ms: Option<u64>,
    pub server_fin_ms: Option<u64>,
    pub tarpit_ms: Option<u64>,
}

/// How HTTP connections are kept (`option http-keep-alive|http-server-close|httpclose`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    pub except: Option<(std::net::IpAddr, u8)>,
    /// Header name, `X-Forwarded-For` by default.
    pub header: String,
    pub if_none: bool,
}

/// Proxy `option` flags lbd acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub forwardfor: Option<ForwardFor>,
    pub http_conn_mode: HttpConnMode,
    pub redispatch: bool,
    pub httplog: bool,
    pub tcplog: bool,
    pub dontlognull: bool,
    /// `log global`: the proxy also logs to the global `log` targets.
    pub log_global: bool,
}

/// `hash-type <method> [<function> [avalanche]]`. The `wt6` function is
/// refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashType {
    pub method: HashMethod,
    /// Hashes the `uri`, `url_param` and `hdr` keys (`source` hashes the
    /// address itself, whatever the function).
    pub function: HashFunction,
    /// The `avalanche` modifier: the hash is mixed once more before use.
    pub avalanche: bool,
}

/// How a hash designates a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashMethod {
    /// A static map with one slot per unit of weight (HAProxy's default).
    #[default]
    MapBased,
    /// A ring of points per server: few keys move when a server leaves.
    Consistent,
}

/// `hash-type` functions lbd implements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashFunction {
    #[default]
    Sdbm,
    Djb2,
    Crc32,
}

impl HashFunction {
    pub fn as_keyword(self) -> &'static str {
        match self {
            HashFunction::Sdbm => "sdbm",
            HashFunction::Djb2 => "djb2",
            HashFunction::Crc32 => "crc32",
        }
    }
}

/// `balance` algorithms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    /// `balance uri [whole] [len N] [depth N]`.
    Uri {
        whole: bool,
        len: u32,
        depth: u32,
    },
    /// `balance url_param <name>`.
    UrlParam {
        name: String,
    },
    /// `balance hdr(<name>) [use_domain_only]`.
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    /// `balance random [<draws>]`.
    Random {
        draws: u32,
    },
}

impl Balance {
    /// The name `show stat` prints in its `algo` column.
    pub fn as_keyword(&self) -> &'static str {
        match self {
            Balance::RoundRobin => "roundrobin",
            Balance::StaticRr => "static-rr",
            Balance::LeastConn => "leastconn",
            Balance::First => "first",
            Balance::Source => "source",
            Balance::Uri { .. } => "uri",
            Balance::UrlParam { .. } => "url_param",
            Balance::Hdr { .. } => "hdr",
            Balance::Random { .. } => "random",
        }
    }
}

/// A `server` line, with `default-server` settings applied.
#[derive(Debug)]
pub struct Server {
    /// Position in the backend's `servers`.
    pub index: u32,
    /// HAProxy's numeric server id (`sid` in `show stat`), 1-based.
    pub uuid: u32,
    pub name: String,
    pub addr: SocketAddr,
    pub weight: u32,
    /// Concurrent connections; 0 = no limit.
    pub maxconn: u32,
    /// Health check parameters when `check` is set.
    pub check: Option<CheckParams>,
    pub backup: bool,
    pub tls: Option<ServerTls>,
    pub send_proxy: bool,
    /// Live state shared with workers, checks and the runtime API.
    pub state: Arc<ServerState>,
}

/// `check` with `inter`, `fall`, `rise` (and their defaults: 2 s, 3, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckParams {
    pub inter_ms: u64,
    pub fall: u32,
    pub rise: u32,
    /// `port`: check another port than the traffic port.
    pub port: Option<u16>,
}

/// `ssl [verify none|required] [ca-file F] [sni EXPR]` on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub verify: bool,
    pub ca_file: Option<PathBuf>,
    /// `sni` as a literal name (`str(name)` or a bare name).
    pub sni: Option<String>,
}

/// How a backend checks its servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HealthCheck {
    /// A TCP connect.
    #[default]
    Tcp,
    /// `option httpchk [<method> <uri> [<version>]]` with `http-check expect`.
    Http {
        method: String,
        uri: String,
        version: String,
        expect: HttpCheckExpect,
    },
}

/// `http-check expect ...`; without it any 2xx or 3xx passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HttpCheckExpect {
    #[default]
    Success,
    /// `status <code>`.
    Status(u16),
    /// `rstatus <regex>` kept as text.
    StatusRegex(String),
    /// `string <text>` in the body.
    BodyContains(String),
}

/// One listening address of a `bind` line (port ranges are expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    Inet(SocketAddr),
    Unix(PathBuf),
}

/// A `bind` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub addrs: Vec<BindAddr>,
    pub name: Option<String>,
    pub tls: Option<BindTls>,
    pub accept_proxy: bool,
    /// `v4v6`: an IPv6 wildcard also accepts IPv4.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
}

/// `ssl crt <file|dir> [crt-list F] [alpn L] ...` on a bind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindTls {
    /// `crt` and `crt-list` in the order of the line: the first certificate
    /// they load is the default certificate, as in HAProxy.
    pub certs: Vec<BindCert>,
    pub alpn: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub verify: Verify,
    pub min_version: Option<String>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
}

/// Where a TLS bind takes certificates from. Paths are resolved already
/// (`crt-base`, `default-path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindCert {
    /// `crt <file|dir>`.
    Crt(PathBuf),
    /// `crt-list <file>`; relative certificate names in it resolve from
    /// `dir` (`crt-base`, else the `default-path` directory).
    CrtList { path: PathBuf, dir: PathBuf },
}

/// `verify none|optional|required` on a bind: whether a client certificate
/// is asked for, and whether a client without one is refused. A certificate
/// that is sent must verify against `ca-file` in both asking modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verify {
    #[default]
    None,
    Optional,
    Required,
}

impl Verify {
    pub fn as_keyword(self) -> &'static str {
        match self {
            Verify::None => "none",
            Verify::Optional => "optional",
            Verify::Required => "required",
        }
    }

    /// The mode named by `word`, if any.
    pub fn from_keyword(word: &str) -> Option<Verify> {
        [Verify::None, Verify::Optional, Verify::Required]
            .into_iter()
            .find(|v| v.as_keyword() == word)
    }
}

/// `use_backend <name> [if|unless <cond>]`.
#[derive(Debug)]
pub struct UseBackend {
    pub backend: ProxyId,
    pub cond: Option<Cond>,
}

/// Error pages by status, as raw HTTP responses read from `errorfile`.
#[derive(Debug, Clone, Default)]
pub struct ErrorFiles {
    pages: Vec<(u16, Arc<[u8]>)>,
}

impl ErrorFiles {
    pub fn set(&mut self, status: u16, response: Arc<[u8]>) {
        match self.pages.iter_mut().find(|(s, _)| *s == status) {
            Some(page) => page.1 = response,
            None => self.pages.push((status, response)),
        }
    }

    pub fn page(&self, status: u16) -> Option<&Arc<[u8]>> {
        self.pages
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, p)| p)
    }
}

/// `stats enable|uri|realm|auth|refresh` in a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsPage {
    pub uri: String,
    pub realm: Option<String>,
    /// `user:password` pairs; empty = no authentication.
    pub auth: Vec<(String, String)>,
    pub refresh_ms: Option<u64>,
}

/// `compression algo ... type ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compression {
    pub algos: Vec<String>,
    pub types: Vec<String>,
}

/// A `userlist` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub users: Vec<User>,
    pub groups: Vec<String>,
}

/// A `user` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
}

/// How a user's password is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    Insecure(String),
    /// A crypt(3) hash.
    Crypt(String),
}
