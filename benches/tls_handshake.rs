//! Full TLS handshakes in memory (no sockets), rustls client against the
//! server configuration lbd builds, per crypto provider: ring always, and
//! aws-lc-rs when built with `--features aws-lc-rs`. Certificates are made
//! at start: ECDSA P-256 with rcgen, RSA 2048 with openssl when present.
//!
//! cargo bench --bench tls_handshake --features aws-lc-rs -- --warm-up-time 1 --measurement-time 3
//!
//! On a shared machine wall time is noisy; `LBD_TLS_CPU=<n>` instead runs
//! n handshakes per case in five interleaved rounds and prints the CPU time
//! (the scheduler's run time of the thread) per handshake, which other processes
//! do not inflate:
//!
//! LBD_TLS_CPU=300 cargo bench --bench tls_handshake --features aws-lc-rs

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use criterion::{Criterion, criterion_group};
use rcgen::{CertificateParams, KeyPair};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lbd-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A self-signed ECDSA P-256 certificate and key in one PEM file.
fn ecdsa_pem(dir: &Path) -> PathBuf {
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["bench.example".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let path = dir.join("ecdsa.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write");
    path
}

/// A self-signed RSA 2048 certificate and key, when openssl is installed.
fn rsa_pem(dir: &Path) -> Option<PathBuf> {
    let key = dir.join("rsa.key");
    let cert = dir.join("rsa.crt");
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=bench.example"])
        .args(["-addext", "subjectAltName=DNS:bench.example"])
        // openssl marks a self-signed certificate as a CA unless told.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not available: RSA handshakes skipped");
        return None;
    }
    let path = dir.join("rsa.pem");
    let text = std::fs::read_to_string(&cert).ok()? + &std::fs::read_to_string(&key).ok()?;
    std::fs::write(&path, text).ok()?;
    Some(path)
}

struct Pair {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

fn pair(provider: &CryptoProvider, pem: &Path, tls13: bool, resume: bool) -> Pair {
    let provider = Arc::new(provider.clone());
    let loaded = lbd::tls::load_file(pem, &provider).expect("certificate");
    let mut roots = RootCertStore::empty();
    roots
        .add(loaded.key.cert[0].clone())
        .expect("self-signed root");
    let versions: &[&rustls::SupportedProtocolVersion] = if tls13 { &[&TLS13] } else { &[&TLS12] };
    let mut client = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(
            lbd::tls::SniResolver::new(vec![lbd::tls::SniCert {
                key: loaded.key,
                names: loaded.names,
                excluded: Vec::new(),
            }])
            .expect("resolver"),
        ));
    if resume {
        server.session_storage = ServerSessionMemoryCache::new(1024);
    } else {
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        client.resumption = rustls::client::Resumption::disabled();
    }
    Pair {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

/// One handshake, bytes moved through memory.
fn handshake(pair: &Pair) {
    let name = ServerName::try_from("bench.example").expect("name");
    let mut c = ClientConnection::new(Arc::clone(&pair.client), name).expect("client");
    let mut s = ServerConnection::new(Arc::clone(&pair.server)).expect("server");
    let mut buf = Vec::with_capacity(8192);
    while c.is_handshaking() || s.is_handshaking() {
        move_bytes(&mut c, &mut s, &mut buf);
        move_bytes(&mut s, &mut c, &mut buf);
    }
    // Take the session tickets in, as a client would.
    move_bytes(&mut s, &mut c, &mut buf);
}

fn move_bytes(
    from: &mut rustls::ConnectionCommon<impl rustls::SideData>,
    to: &mut rustls::ConnectionCommon<impl rustls::SideData>,
    buf: &mut Vec<u8>,
) {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).expect("write");
    }
    let mut slice = &buf[..];
    while !slice.is_empty() {
        to.read_tls(&mut slice).expect("read");
        to.process_new_packets().expect("handshake");
    }
}

fn providers() -> Vec<(&'static str, CryptoProvider)> {
    vec![
        ("ring", rustls::crypto::ring::default_provider()),
        #[cfg(feature = "aws-lc-rs")]
        ("aws-lc-rs", rustls::crypto::aws_lc_rs::default_provider()),
    ]
}

fn handshakes(c: &mut Criterion) {
    let dir = scratch();
    let mut certs = vec![("ecdsa", ecdsa_pem(&dir))];
    if let Some(rsa) = rsa_pem(&dir) {
        certs.push(("rsa2048", rsa));
    }
    let mut group = c.benchmark_group("tls_handshake");
    for (provider_name, provider) in providers() {
        for (cert_name, pem) in &certs {
            for (label, tls13, resume) in [
                ("tls13_full", true, false),
                ("tls12_full", false, false),
                ("tls13_resumed", true, true),
            ] {
                let pair = pair(&provider, pem, tls13, resume);
                handshake(&pair); // fills the client's session cache
                group.bench_function(format!("{provider_name}/{cert_name}/{label}"), |b| {
                    b.iter(|| handshake(&pair))
                });
            }
        }
    }
    group.finish();
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
}

/// CPU seconds this thread has run so far (the scheduler's own count, in
/// nanoseconds, from /proc/thread-self/schedstat).
fn cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ns as f64 / 1e9
}

fn cpu_report(n: u32) {
    let dir = scratch();
    let mut certs = vec![("ecdsa", ecdsa_pem(&dir))];
    if let Some(rsa) = rsa_pem(&dir) {
        certs.push(("rsa2048", rsa));
    }
    let cases = [
        ("tls13_full", true, false),
        ("tls12_full", false, false),
        ("tls13_resumed", true, true),
    ];
    let mut results: Vec<(String, Vec<f64>)> = Vec::new();
    for _round in 0..5 {
        for (provider_name, provider) in providers() {
            for (cert_name, pem) in &certs {
                for (label, tls13, resume) in cases {
                    let pair = pair(&provider, pem, tls13, resume);
                    handshake(&pair);
                    let start = cpu_seconds();
                    for _ in 0..n {
                        handshake(&pair);
                    }
                    let per = (cpu_seconds() - start) / f64::from(n);
                    let name = format!("{provider_name}/{cert_name}/{label}");
                    match results.iter_mut().find(|(k, _)| *k == name) {
                        Some((_, v)) => v.push(per),
                        None => results.push((name, vec![per])),
                    }
                }
            }
        }
    }
    println!(
        "{:32} {:>12} {:>14}",
        "case (client+server)", "cpu us/hs", "handshakes/s"
    );
    for (name, mut v) in results {
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        println!("{name:32} {:12.1} {:14.0}", median * 1e6, 1.0 / median);
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
}

criterion_group!(benches, handshakes);

fn main() {
    if let Some(n) = std::env::var("LBD_TLS_CPU")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cpu_report(n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
