//! TLS: `lbd -c` loads every certificate, key and CA file and names the
//! file that is wrong. Certificates are made at test time with rcgen.

use std::path::PathBuf;

use rcgen::{CertificateParams, KeyPair};

use crate::harness::{Scratch, check};

/// (certificate PEM, key PEM), self-signed, for `names`.
fn self_signed(names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let cert = CertificateParams::new(names)
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    (cert.pem(), key.serialize_pem())
}

fn site(dir: &Scratch, file: &str, names: &[&str]) -> PathBuf {
    let (cert, key) = self_signed(names);
    dir.write(file, &format!("{cert}{key}"))
}

fn config(frontend: &str, server: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
         frontend web\n    {frontend}\n    default_backend app\n\n\
         backend app\n    {server}\n"
    )
}

struct Outcome {
    ok: bool,
    stderr: String,
}

fn run_check(dir: &Scratch, text: &str) -> Outcome {
    let cfg = dir.write("lb.cfg", text);
    let out = check(&dir.path, &[&cfg]);
    Outcome {
        ok: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn check_accepts_good_certificates_and_warns_about_h2() {
    let dir = Scratch::new("tls-good");
    let a = site(&dir, "a.pem", &["a.example"]);
    let b = site(&dir, "b.pem", &["b.example"]);
    let text = config(
        &format!(
            "bind 127.0.0.1:8443 ssl crt {} crt {} alpn h2,http/1.1 ssl-min-ver TLSv1.2",
            a.display(),
            b.display()
        ),
        "server s1 127.0.0.1:8080 ssl verify none sni str(api.example)",
    );
    let out = run_check(&dir, &text);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("'h2'"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_names_a_missing_certificate() {
    let dir = Scratch::new("tls-missing");
    let text = config(
        "bind 127.0.0.1:8443 ssl crt missing-site.pem",
        "server s1 127.0.0.1:8080",
    );
    let out = run_check(&dir, &text);
    assert!(!out.ok);
    assert!(out.stderr.contains("missing-site.pem"), "{}", out.stderr);
    assert!(out.stderr.contains("frontend 'web'"), "{}", out.stderr);
}

#[test]
fn check_names_a_key_that_does_not_match() {
    let dir = Scratch::new("tls-mismatch");
    let (cert, _) = self_signed(&["a.example"]);
    let (_, other_key) = self_signed(&["b.example"]);
    let path = dir.write("mixed.pem", &format!("{cert}{other_key}"));
    let text = config(
        &format!("bind 127.0.0.1:8443 ssl crt {}", path.display()),
        "server s1 127.0.0.1:8080",
    );
    let out = run_check(&dir, &text);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("mixed.pem") && out.stderr.contains("does not match"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_refuses_unknown_ciphers_and_server_verify_without_ca() {
    let dir = Scratch::new("tls-ciphers");
    let a = site(&dir, "a.pem", &["a.example"]);
    let text = config(
        &format!(
            "bind 127.0.0.1:8443 ssl crt {} ciphers ECDHE-RSA-AES128-GCM-SHA265",
            a.display()
        ),
        "server s1 127.0.0.1:8443 ssl verify required",
    );
    let out = run_check(&dir, &text);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("unknown cipher 'ECDHE-RSA-AES128-GCM-SHA265'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("server 's1'") && out.stderr.contains("ca-file"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_names_the_crt_list_line() {
    let dir = Scratch::new("tls-crtlist");
    let a = site(&dir, "a.pem", &["a.example"]);
    let list = dir.write(
        "list.txt",
        &format!(
            "{} a.example\n{}/nope.pem b.example\n",
            a.display(),
            dir.path.display()
        ),
    );
    let text = config(
        &format!("bind 127.0.0.1:8443 ssl crt-list {}", list.display()),
        "server s1 127.0.0.1:8080",
    );
    let out = run_check(&dir, &text);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("list.txt' line 2") && out.stderr.contains("nope.pem"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// Traffic through the real binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, DnType, IsCa, Issuer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::harness::have;
use crate::servers::{self, DEFAULTS, ports, start_lbd};

/// A test CA issuing certificates.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names` with subject CN `cn`.
    fn issue(&self, names: &[&str], cn: &str) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        (cert.pem(), key.serialize_pem())
    }

    /// Writes a site's certificate and key in one PEM file.
    fn site(&self, dir: &Scratch, file: &str, names: &[&str]) -> PathBuf {
        let (cert, key) = self.issue(names, names[0]);
        dir.write(file, &format!("{cert}{key}"))
    }
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("pem")
        .to_vec()
}

/// A rustls client trusting `ca`, with a client certificate if given.
fn client(ca: &str, cert: Option<&(String, String)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).expect("ca"))
        .expect("root");
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    let config = match cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"),
            )
            .expect("client auth"),
    };
    Arc::new(config)
}

/// GETs `path` over TLS with SNI `name`: the server's leaf certificate and
/// the whole response, or what went wrong.
fn tls_get(
    port: u16,
    name: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
) -> Result<(Vec<u8>, String), String> {
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(config, server_name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    // A peer that closes without close_notify still gave us its bytes.
    if let Err(e) = tls.read_to_end(&mut response)
        && response.is_empty()
    {
        return Err(e.to_string());
    }
    let leaf = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    Ok((leaf, String::from_utf8_lossy(&response).into_owned()))
}

fn https_cfg(port: u16, server: u16, bind_opts: &str) -> String {
    format!(
        "{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{port} {bind_opts}\n    default_backend app\nbackend app\n    server s 127.0.0.1:{server}\n"
    )
}

#[test]
fn curl_reaches_a_backend_through_tls() {
    if !have("curl") {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let dir = Scratch::new("tls-curl");
    let ca = Ca::new("test CA");
    let site = ca.site(&dir, "site.pem", &["site.example"]);
    let ca_file = dir.write("ca.pem", &ca.pem);
    let cfg = https_cfg(p, s, &format!("ssl crt {} alpn http/1.1", site.display()));
    let _lbd = start_lbd("tls-curl", &cfg, p);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&ca_file)
        .arg("--resolve")
        .arg(format!("site.example:{p}:127.0.0.1"))
        .arg(format!("https://site.example:{p}/hello"))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s /hello");
}

#[test]
fn sni_picks_the_certificate_among_three() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let dir = Scratch::new("tls-sni");
    let ca = Ca::new("test CA");
    let mut pems = Vec::new();
    let mut files = Vec::new();
    for (file, names) in [
        ("default.pem", &["default.example"][..]),
        ("api.pem", &["api.example"][..]),
        ("wild.pem", &["*.wild.example"][..]),
    ] {
        let (cert, key) = ca.issue(names, names[0]);
        files.push(dir.write(file, &format!("{cert}{key}")));
        pems.push(cert);
    }
    let crts: Vec<String> = files
        .iter()
        .map(|f| format!("crt {}", f.display()))
        .collect();
    let cfg = https_cfg(p, s, &format!("ssl {}", crts.join(" ")));
    let _lbd = start_lbd("tls-sni", &cfg, p);
    for (name, want) in [
        ("api.example", 1),
        ("x.wild.example", 2),
        ("default.example", 0),
    ] {
        let (leaf, response) = tls_get(p, name, client(&ca.pem, None), "/sni")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(leaf, der(&pems[want]), "{name}");
        assert!(response.ends_with("s /sni"), "{name}: {response}");
    }
    // An unknown name gets the default certificate, which does not match it.
    let err = tls_get(p, "other.example", client(&ca.pem, None), "/");
    assert!(err.is_err(), "{err:?}");
}

#[test]
fn mutual_tls_rejects_a_client_without_certificate() {
    let [p, s] = ports::<2>();
    let back = servers::http("s", s);
    let dir = Scratch::new("tls-mtls");
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let site = ca.site(&dir, "site.pem", &["site.example"]);
    let clients_file = dir.write("clients.pem", &clients.pem);
    let cfg = https_cfg(
        p,
        s,
        &format!(
            "ssl crt {} verify required ca-file {}",
            site.display(),
            clients_file.display()
        ),
    );
    let _lbd = start_lbd("tls-mtls", &cfg, p);
    let without = tls_get(p, "site.example", client(&ca.pem, None), "/x");
    assert!(without.is_err(), "{without:?}");
    let stranger = Ca::new("other CA").issue(&[], "mallory");
    let wrong = tls_get(p, "site.example", client(&ca.pem, Some(&stranger)), "/x");
    assert!(wrong.is_err(), "{wrong:?}");
    assert_eq!(back.hits(), 0);
    let alice = clients.issue(&[], "alice");
    let (_, response) = tls_get(p, "site.example", client(&ca.pem, Some(&alice)), "/x")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.ends_with("s /x"), "{response}");
}

#[test]
fn tls_to_a_tls_backend() {
    // client --plain--> lbd A --TLS, verified, SNI--> lbd B --plain--> backend
    let [a, b, s] = ports::<3>();
    let _back = servers::http("s", s);
    let dir = Scratch::new("tls-backend");
    let ca = Ca::new("backend CA");
    let site = ca.site(&dir, "api.pem", &["api.example"]);
    let ca_file = dir.write("ca.pem", &ca.pem);
    let front = https_cfg(b, s, &format!("ssl crt {}", site.display()));
    let _lbd_b = start_lbd("tls-backend-b", &front, b);
    let proxy = format!(
        "{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{a}\n    default_backend app\nbackend app\n    server tls 127.0.0.1:{b} ssl verify required ca-file {} sni str(api.example)\n",
        ca_file.display()
    );
    let _lbd_a = start_lbd("tls-backend-a", &proxy, a);
    for i in 0..3 {
        let resp = servers::get(a, &format!("/through/{i}")).expect("response");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), format!("s /through/{i}"));
    }
    // A name the backend's certificate does not have: verification fails.
    let wrong = proxy.replace("str(api.example)", "str(www.example)");
    let c = ports::<1>()[0];
    let wrong = wrong.replace(&format!(":{a}\n"), &format!(":{c}\n"));
    let _lbd_c = start_lbd("tls-backend-c", &wrong, c);
    let resp = servers::get(c, "/nope").expect("response");
    assert_eq!(resp.status, 503);
}

#[test]
fn a_stalled_or_broken_handshake_is_cut_and_the_worker_goes_on() {
    let [p, s] = ports::<2>();
    let _back = servers::http("s", s);
    let dir = Scratch::new("tls-stall");
    let ca = Ca::new("test CA");
    let site = ca.site(&dir, "site.pem", &["site.example"]);
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 5s\n    mode http\nfrontend f\n    bind 127.0.0.1:{p} ssl crt {}\n    default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n",
        site.display()
    );
    let _lbd = start_lbd("tls-stall", &cfg, p);
    // Clear text on a TLS port: refused, connection closed.
    let mut plain = servers::connect(p);
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut sink = Vec::new();
    // A reset is as good as a close here.
    let read = plain.read_to_end(&mut sink);
    assert!(read.is_ok() || sink.is_empty(), "{read:?}");
    assert!(!String::from_utf8_lossy(&sink).contains("200"));
    // Opens TCP, never starts TLS: cut by `timeout client`.
    let mut stalled = servers::connect(p);
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = stalled.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "expected a close");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    // The single worker still serves.
    let (_, response) = tls_get(p, "site.example", client(&ca.pem, None), "/after")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.ends_with("s /after"), "{response}");
}

/// The value of header `name` in a raw HTTP/1.1 response.
fn header_of(response: &str, name: &str) -> Option<String> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

#[test]
fn ssl_fetches_see_the_handshake_and_redirect_plain_clients() {
    let [plain, secure, mutual, s] = ports::<4>();
    let _back = servers::http("s", s);
    let dir = Scratch::new("tls-fetches");
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let site = ca.site(&dir, "site.pem", &["site.example"]);
    let clients_file = dir.write("clients.pem", &clients.pem);
    let cfg = format!(
        "{DEFAULTS}    mode http\nfrontend f\n    bind 127.0.0.1:{plain}\n    \
         bind 127.0.0.1:{secure} ssl crt {site} alpn http/1.1\n    \
         bind 127.0.0.1:{mutual} ssl crt {site} verify required ca-file {clients}\n    \
         http-request redirect scheme https unless {{ ssl_fc }}\n    \
         http-response set-header X-Sni %[ssl_fc_sni]\n    \
         http-response set-header X-Proto %[ssl_fc_protocol]\n    \
         http-response set-header X-Alpn %[ssl_fc_alpn]\n    \
         http-response set-header X-Used %[ssl_c_used]\n    \
         http-response set-header X-Verify %[ssl_c_verify]\n    \
         http-response set-header X-Cn %[ssl_c_s_dn(CN)]\n    \
         http-response set-header X-Dn %[ssl_c_s_dn]\n    \
         http-response set-header X-Ldap %[ssl_c_s_dn(,0,rfc2253)]\n    \
         http-response set-header X-Mutual yes if {{ ssl_c_used }} {{ ssl_c_verify 0 }}\n    \
         http-response set-header X-Site yes if {{ ssl_fc_sni_end .example }} {{ ssl_fc_sni_reg ^site[.] }}\n    \
         default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n",
        site = site.display(),
        clients = clients_file.display()
    );
    let _lbd = start_lbd("tls-fetches", &cfg, plain);
    assert!(crate::harness::wait_listening(secure));
    assert!(crate::harness::wait_listening(mutual));

    // Clear text: sent to https with the same host and path.
    let mut sock = servers::connect(plain);
    sock.write_all(b"GET /a/b?c=1 HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut reply = String::new();
    let _ = sock.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 302"), "{reply}");
    assert_eq!(
        header_of(&reply, "location").as_deref(),
        Some("https://site.example/a/b?c=1"),
        "{reply}"
    );

    // TLS, no client certificate.
    let mut config = (*client(&ca.pem, None)).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (_, response) =
        tls_get(secure, "site.example", Arc::new(config), "/in").unwrap_or_else(|e| panic!("{e}"));
    assert!(response.ends_with("s /in"), "{response}");
    let h = |name: &str| header_of(&response, name);
    assert_eq!(h("x-sni").as_deref(), Some("site.example"), "{response}");
    let proto = h("x-proto").unwrap_or_default();
    assert!(proto == "TLSv1.3" || proto == "TLSv1.2", "{response}");
    assert_eq!(h("x-alpn").as_deref(), Some("http/1.1"), "{response}");
    assert_eq!(h("x-used").as_deref(), Some("0"), "{response}");
    assert_eq!(h("x-verify").as_deref(), Some("0"), "{response}");
    assert_eq!(h("x-cn").as_deref().unwrap_or(""), "", "{response}");
    assert_eq!(h("x-mutual"), None, "{response}");
    assert_eq!(h("x-site").as_deref(), Some("yes"), "{response}");

    // TLS with a client certificate from the trusted CA.
    let alice = clients.issue(&[], "alice");
    let (_, response) = tls_get(mutual, "site.example", client(&ca.pem, Some(&alice)), "/me")
        .unwrap_or_else(|e| panic!("{e}"));
    let h = |name: &str| header_of(&response, name);
    assert!(response.ends_with("s /me"), "{response}");
    assert_eq!(h("x-used").as_deref(), Some("1"), "{response}");
    assert_eq!(h("x-cn").as_deref(), Some("alice"), "{response}");
    assert_eq!(h("x-dn").as_deref(), Some("/CN=alice"), "{response}");
    assert_eq!(h("x-ldap").as_deref(), Some("CN=alice"), "{response}");
    assert_eq!(h("x-mutual").as_deref(), Some("yes"), "{response}");
}

#[test]
fn tcp_mode_routes_tls_by_the_client_hello_name() {
    // client --TLS--> lbd (mode tcp, req.ssl_sni) --same bytes--> lbd A or B
    let [front, a, b, sa, sb] = ports::<5>();
    let _back_a = servers::http("a", sa);
    let _back_b = servers::http("b", sb);
    let dir = Scratch::new("tls-sni-route");
    let ca = Ca::new("test CA");
    let mut leaves = Vec::new();
    let mut lbds = Vec::new();
    for (name, port, server) in [("a.example", a, sa), ("b.example", b, sb)] {
        let (cert, key) = ca.issue(&[name], name);
        let file = dir.write(&format!("{name}.pem"), &format!("{cert}{key}"));
        leaves.push(der(&cert));
        let cfg = https_cfg(port, server, &format!("ssl crt {}", file.display()));
        lbds.push(start_lbd(&format!("tls-sni-{name}"), &cfg, port));
    }
    let cfg = format!(
        "{DEFAULTS}    mode tcp\nfrontend f\n    bind 127.0.0.1:{front}\n    \
         tcp-request inspect-delay 5s\n    \
         tcp-request content reject unless {{ req.ssl_sni -m found }}\n    \
         use_backend b1 if {{ req.ssl_sni -i A.example }}\n    \
         use_backend b2 if {{ req_ssl_sni -m end .b.example }} || {{ req.ssl_sni b.example }}\n\
         backend b1\n    server a 127.0.0.1:{a}\n\
         backend b2\n    server b 127.0.0.1:{b}\n"
    );
    let _lbd = start_lbd("tls-sni-front", &cfg, front);
    for round in 0..2 {
        for (name, want, body) in [("a.example", 0, "a"), ("b.example", 1, "b")] {
            let (leaf, response) = tls_get(front, name, client(&ca.pem, None), "/r")
                .unwrap_or_else(|e| panic!("{name} round {round}: {e}"));
            assert_eq!(leaf, leaves[want], "{name}");
            assert!(
                response.ends_with(&format!("{body} /r")),
                "{name}: {response}"
            );
        }
    }
    // Not TLS at all: no name, rejected without waiting for the delay.
    let started = Instant::now();
    let reply = servers::raw_exchange(front, b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn tcp_mode_waits_for_a_split_client_hello_within_the_inspect_delay() {
    let [front, a, sa] = ports::<3>();
    let _back = servers::http("a", sa);
    let dir = Scratch::new("tls-sni-split");
    let ca = Ca::new("test CA");
    let site = ca.site(&dir, "a.pem", &["a.example"]);
    let _lbd_a = start_lbd(
        "tls-sni-split-a",
        &https_cfg(a, sa, &format!("ssl crt {}", site.display())),
        a,
    );
    let cfg = format!(
        "{DEFAULTS}    mode tcp\nfrontend f\n    bind 127.0.0.1:{front}\n    \
         tcp-request inspect-delay 1s\n    \
         tcp-request content reject unless {{ req.ssl_sni a.example }}\n    \
         default_backend b1\n\
         backend b1\n    server a 127.0.0.1:{a}\n"
    );
    let _lbd = start_lbd("tls-sni-split-front", &cfg, front);
    let hello = |name: &str| {
        let server_name = ServerName::try_from(name.to_string()).expect("name");
        let mut conn =
            rustls::ClientConnection::new(client(&ca.pem, None), server_name).expect("client");
        let mut bytes = Vec::new();
        conn.write_tls(&mut bytes).expect("hello");
        (conn, bytes)
    };

    // The hello in two pieces, 300 ms apart: lbd waits, then routes.
    let (conn, bytes) = hello("a.example");
    let mut sock = servers::connect(front);
    sock.write_all(&bytes[..20]).expect("first piece");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut probe = [0u8; 1];
    let early = sock.read(&mut probe);
    assert!(early.is_err(), "lbd answered or closed early: {early:?}");
    sock.write_all(&bytes[20..]).expect("second piece");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"GET /split HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.ends_with("a /split"), "{response}");

    // Half a hello and nothing more: the delay runs out, no name, rejected.
    let (_, bytes) = hello("a.example");
    let mut sock = servers::connect(front);
    sock.write_all(&bytes[..20]).expect("first piece");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    let n = sock.read(&mut probe).unwrap_or(0);
    let waited = started.elapsed();
    assert_eq!(n, 0, "expected a close");
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(4),
        "closed after {waited:?}"
    );
}

#[test]
fn check_refuses_an_unknown_dn_format() {
    let dir = Scratch::new("tls-dn-format");
    let site = site(&dir, "a.pem", &["a.example"]);
    let bind = format!("bind 127.0.0.1:8443 ssl crt {}", site.display());
    let good = config(
        &format!("{bind}\n    http-request deny if {{ ssl_c_s_dn(,0,rfc2253) -m sub x }}"),
        "server s1 127.0.0.1:8080",
    );
    let out = run_check(&dir, &good);
    assert!(out.ok, "{}", out.stderr);
    let bad = good.replace("rfc2253", "ldap");
    let out = run_check(&dir, &bad);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("'ssl_c_s_dn'") && out.stderr.contains("'ldap'"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// crt-base, ca-base, `verify optional` and the default certificate, on lbd
// and, where it is installed, on haproxy with the same configuration.

use crate::harness::{Proc, wait_listening};

/// Runs haproxy on `cfg` from a scratch directory until dropped; `None`
/// (with the reason printed) when haproxy is not installed.
fn start_haproxy(label: &str, cfg: &str, ports: &[u16]) -> Option<(Proc, Scratch)> {
    if !have("haproxy") {
        eprintln!("haproxy comparison skipped: haproxy is not installed");
        return None;
    }
    let dir = Scratch::new(label);
    let path = dir.write("haproxy.cfg", cfg);
    let proc = Proc::spawn(
        "haproxy",
        Command::new("haproxy")
            .args(["-db", "-q", "-f"])
            .arg(&path)
            .current_dir(&dir.path),
    );
    for &port in ports {
        assert!(wait_listening(port), "haproxy did not listen on {port}");
    }
    Some((proc, dir))
}

/// A site certificate that also answers for 127.0.0.1: a client that
/// connects by address sends no SNI, so it is given the default
/// certificate, and can still verify it. Returns the leaf's DER.
fn address_site(ca: &Ca, dir: &Scratch, file: &str, name: &str) -> Vec<u8> {
    let (cert, key) = ca.issue(&["127.0.0.1", name], name);
    dir.write(file, &format!("{cert}{key}"));
    der(&cert)
}

/// The leaf certificate served on `port` to a client asking for `name`
/// (an address: no SNI).
fn served(port: u16, name: &str, ca: &Ca) -> Vec<u8> {
    match tls_get(port, name, client(&ca.pem, None), "/cert") {
        Ok((leaf, response)) => {
            assert!(response.contains(" 200 "), "{port} {name}: {response}");
            leaf
        }
        Err(e) => panic!("{port} {name}: {e}"),
    }
}

#[test]
fn crt_base_names_and_the_default_certificate_follow_the_bind_line() {
    let dir = Scratch::new("tls-crt-base");
    let ca = Ca::new("test CA");
    let a = address_site(&ca, &dir, "certs/a.pem", "a.example");
    let b = address_site(&ca, &dir, "certs/b.pem", "b.example");
    // The list's own name is not below crt-base; the names in it are.
    let list = dir.write("lists/sites.list", "a.pem a.example\n");
    let cfg = |[first, second]: [u16; 2]| {
        format!(
            "global\n    crt-base {certs}\n{DEFAULTS}    mode http\nfrontend f\n    \
             bind 127.0.0.1:{first} ssl crt-list {list} crt b.pem\n    \
             bind 127.0.0.1:{second} ssl crt b.pem crt-list {list}\n    \
             http-request return status 200 content-type text/plain string ok\n",
            certs = dir.path.join("certs").display(),
            list = list.display(),
        )
    };
    let lbd_ports = ports::<2>();
    let _lbd = start_lbd("tls-crt-base", &cfg(lbd_ports), lbd_ports[0]);
    assert!(wait_listening(lbd_ports[1]));
    let mut sides = vec![("lbd", lbd_ports)];
    let haproxy_ports = ports::<2>();
    let haproxy = start_haproxy("tls-crt-base-haproxy", &cfg(haproxy_ports), &haproxy_ports);
    if haproxy.is_some() {
        sides.push(("haproxy", haproxy_ports));
    }
    for (side, [first, second]) in sides {
        // No SNI: the first certificate of the line, whichever keyword.
        assert!(
            served(first, "127.0.0.1", &ca) == a,
            "{side}: crt-list first"
        );
        assert!(served(second, "127.0.0.1", &ca) == b, "{side}: crt first");
        // By name, both are there on both lines.
        assert!(served(first, "b.example", &ca) == b, "{side}");
        assert!(served(second, "a.example", &ca) == a, "{side}");
    }
}

#[test]
fn ca_base_and_verify_optional_serve_clients_with_and_without_certificates() {
    let dir = Scratch::new("tls-verify-optional");
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    ca.site(&dir, "certs/site.pem", &["site.example"]);
    dir.write("cas/clients.pem", &clients.pem);
    let s = ports::<1>()[0];
    let back = servers::http("s", s);
    let cfg = |port: u16| {
        format!(
            "global\n    crt-base {dir}/certs\n    ca-base {dir}/cas\n{DEFAULTS}    mode http\n\
             frontend f\n    \
             bind 127.0.0.1:{port} ssl crt site.pem ca-file clients.pem verify optional\n    \
             http-response set-header X-Used %[ssl_c_used]\n    \
             http-response set-header X-Verify %[ssl_c_verify]\n    \
             http-response set-header X-Cn %[ssl_c_s_dn(CN)]\n    \
             http-response set-header X-Client yes if {{ ssl_c_used }}\n    \
             default_backend app\nbackend app\n    server s 127.0.0.1:{s}\n",
            dir = dir.path.display(),
        )
    };
    let port = ports::<1>()[0];
    let _lbd = start_lbd("tls-verify-optional", &cfg(port), port);
    let mut sides = vec![("lbd", port)];
    let haproxy_port = ports::<1>()[0];
    let haproxy = start_haproxy(
        "tls-verify-optional-haproxy",
        &cfg(haproxy_port),
        &[haproxy_port],
    );
    if haproxy.is_some() {
        sides.push(("haproxy", haproxy_port));
    }
    let alice = clients.issue(&[], "alice");
    let mallory = Ca::new("other CA").issue(&[], "mallory");
    for (side, port) in &sides {
        // (X-Used, X-Verify, X-Cn, X-Client) of a request, or the failure.
        let facts = |cert: Option<&(String, String)>| {
            tls_get(*port, "site.example", client(&ca.pem, cert), "/v").map(|(_, response)| {
                assert!(response.ends_with("s /v"), "{side}: {response}");
                let h = |name: &str| header_of(&response, name).unwrap_or_default();
                [h("x-used"), h("x-verify"), h("x-cn"), h("x-client")]
            })
        };
        assert_eq!(
            facts(None),
            Ok(["0", "0", "", ""].map(String::from)),
            "{side}: a client without a certificate is served"
        );
        assert_eq!(
            facts(Some(&alice)),
            Ok(["1", "0", "alice", "yes"].map(String::from)),
            "{side}: a certificate from the CA"
        );
        let refused = facts(Some(&mallory));
        assert!(
            refused.is_err(),
            "{side}: another CA's certificate was served: {refused:?}"
        );
    }
    assert_eq!(back.hits(), 2 * sides.len());
}
