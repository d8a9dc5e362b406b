//! Unit tests of the TLS module with certificates made at test time.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, ServerConfig, ServerConnection};

use super::*;
use crate::compile::program::{BindCert, BindTls, Global, ServerTls, Verify};

/// A directory removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("lbd-tls-{}-{n}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).expect("remove stale dir");
        }
        std::fs::create_dir_all(&path).expect("create dir");
        Dir(path)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("could not remove {}: {e}", self.0.display());
        }
    }
}

/// A test CA that issues certificates.
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
        let cert = params.self_signed(&key).expect("self-signed CA");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names`, with `cn` as the subject CN.
    fn issue(&self, names: &[&str], cn: &str) -> (String, String) {
        self.issue_with(names, cn, KeyPair::generate().expect("key"))
    }

    fn issue_with(&self, names: &[&str], cn: &str, key: KeyPair) -> (String, String) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "lbd test");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        (cert.pem(), key.serialize_pem())
    }
}

fn bind_tls(certs: Vec<PathBuf>) -> BindTls {
    BindTls {
        certs: certs.into_iter().map(BindCert::Crt).collect(),
        ..BindTls::default()
    }
}

/// A crt-list whose relative names resolve from the current directory.
fn crt_list(path: PathBuf) -> BindCert {
    BindCert::CrtList {
        path,
        dir: PathBuf::new(),
    }
}

fn config(tls: &BindTls) -> Arc<ServerConfig> {
    match bind_config(tls, &Global::default()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// A client trusting `ca_pem`, optionally presenting a client certificate.
fn client(ca_pem: &str, client_cert: Option<(&str, &str)>) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA pem")).expect("add root");
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let mut config = match client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("client chain");
            let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes())
                .expect("client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

use rustls::pki_types::pem::PemObject;

/// Runs a whole handshake in memory, then sends one byte each way so that
/// a TLS 1.3 server's verdict on the client certificate reaches the client.
fn handshake(
    client: Arc<ClientConfig>,
    name: &str,
    server: Arc<ServerConfig>,
) -> Result<(ClientConnection, ServerConnection), rustls::Error> {
    let name = ServerName::try_from(name.to_string()).expect("server name");
    let mut c = ClientConnection::new(client, name)?;
    let mut s = ServerConnection::new(server)?;
    c.writer().write_all(b"q").expect("buffer");
    for _ in 0..20 {
        pump(&mut c, &mut s)?;
        pump(&mut s, &mut c)?;
        if !c.is_handshaking() && !s.is_handshaking() {
            let mut byte = [0u8; 1];
            if s.reader().read(&mut byte).is_ok() {
                s.writer().write_all(b"a").expect("buffer");
                pump(&mut s, &mut c)?;
                return Ok((c, s));
            }
        }
    }
    Err(rustls::Error::General(
        "handshake did not finish".to_string(),
    ))
}

fn pump(
    from: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl rustls::SideData>>,
    to: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl rustls::SideData>>,
) -> Result<(), rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).expect("write to memory");
    }
    let mut slice = &buf[..];
    while !slice.is_empty() {
        to.read_tls(&mut slice).expect("read from memory");
        to.process_new_packets()?;
    }
    Ok(())
}

/// The leaf certificate the server showed the client.
fn leaf(c: &ClientConnection) -> Vec<u8> {
    c.peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.to_vec())
        .unwrap_or_default()
}

fn der_of(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("cert pem")
        .to_vec()
}

/// Runs openssl, or returns false (and says so) when it is missing.
fn openssl(args: &[&str]) -> bool {
    match Command::new("openssl").args(args).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            eprintln!("skipped: openssl not available ({e})");
            false
        }
    }
}

#[test]
fn pem_with_chain_and_pkcs8_key() {
    let dir = Dir::new();
    let ca = Ca::new("test CA");
    let (cert, key) = ca.issue(&["www.example.com", "example.com"], "www.example.com");
    let path = dir.write("site.pem", &format!("{cert}{}{key}", ca.pem));
    let loaded = load_file(&path, &provider()).expect("load");
    assert_eq!(loaded.key.cert.len(), 2, "leaf and CA");
    assert_eq!(loaded.names, vec!["www.example.com", "example.com"]);
}

#[test]
fn key_in_a_companion_file() {
    let dir = Dir::new();
    let ca = Ca::new("test CA");
    let (cert, key) = ca.issue(&["a.example"], "a.example");
    let path = dir.write("a.pem", &cert);
    assert_eq!(
        load_file(&path, &provider()).map(|_| ()),
        Err(TlsError::NoKey { path: path.clone() })
    );
    dir.write("a.pem.key", &key);
    assert!(load_file(&path, &provider()).is_ok());
}

#[test]
fn rsa_pkcs1_and_ec_sec1_keys() {
    let dir = Dir::new();
    let rsa_key = dir.0.join("rsa.key");
    let rsa_cert = dir.0.join("rsa.crt");
    let rsa = rsa_key.to_string_lossy().to_string();
    if !openssl(&["genrsa", "-traditional", "-out", &rsa, "2048"]) {
        return;
    }
    let text = std::fs::read_to_string(&rsa_key).expect("rsa key");
    assert!(text.contains("BEGIN RSA PRIVATE KEY"), "PKCS#1 form");
    openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        &rsa,
        "-subj",
        "/CN=rsa.example",
        "-days",
        "2",
        "-out",
        &rsa_cert.to_string_lossy(),
    ]);
    let pem = std::fs::read_to_string(&rsa_cert).expect("cert") + &text;
    let path = dir.write("rsa.pem", &pem);
    let loaded = load_file(&path, &provider()).expect("RSA PKCS#1");
    assert_eq!(loaded.names, vec!["rsa.example"]);

    let ec_key = dir.0.join("ec.key");
    let ec = ec_key.to_string_lossy().to_string();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &ec,
    ]);
    let text = std::fs::read_to_string(&ec_key).expect("ec key");
    assert!(text.contains("BEGIN EC PRIVATE KEY"), "SEC1 form");
    let ec_cert = dir.0.join("ec.crt");
    openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        &ec,
        "-subj",
        "/CN=ec.example",
        "-days",
        "2",
        "-out",
        &ec_cert.to_string_lossy(),
    ]);
    let pem = std::fs::read_to_string(&ec_cert).expect("cert") + &text;
    let path = dir.write("ec.pem", &pem);
    assert!(load_file(&path, &provider()).is_ok(), "EC SEC1");
}

#[test]
fn mismatched_key_names_the_file() {
    let dir = Dir::new();
    let ca = Ca::new("test CA");
    let (cert, _) = ca.issue(&["a.example"], "a.example");
    let (_, other_key) = ca.issue(&["b.example"], "b.example");
    let path = dir.write("bad.pem", &format!("{cert}{other_key}"));
    let err = load_file(&path, &provider()).map(|_| ());
    assert_eq!(err, Err(TlsError::KeyMismatch { path: path.clone() }));
    let message = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("bad.pem"), "{message}");
    // Through a bind as well.
    let err = bind_config(&bind_tls(vec![path.clone()]), &Global::default()).map(|_| ());
    assert_eq!(err, Err(TlsError::KeyMismatch { path }));
}

#[test]
fn missing_empty_and_garbage_files() {
    let dir = Dir::new();
    let missing = dir.0.join("nope.pem");
    assert!(matches!(
        load_file(&missing, &provider()),
        Err(TlsError::Read { path, .. }) if path == missing
    ));
    let empty = dir.write("empty.pem", "");
    assert!(matches!(
        load_file(&empty, &provider()),
        Err(TlsError::NoCertificate { .. })
    ));
    let garbage = dir.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    assert!(matches!(
        load_file(&garbage, &provider()),
        Err(TlsError::BadPem { .. })
    ));
    let empty_dir = dir.0.join("certs");
    std::fs::create_dir_all(&empty_dir).expect("mkdir");
    assert_eq!(
        load_path(&empty_dir, &provider()).map(|_| ()),
        Err(TlsError::EmptyDirectory { path: empty_dir })
    );
}

#[test]
fn directory_loads_every_certificate_in_name_order() {
    let dir = Dir::new();
    let ca = Ca::new("test CA");
    let certs = dir.0.join("certs");
    std::fs::create_dir_all(&certs).expect("mkdir");
    for name in ["b.example", "a.example"] {
        let (cert, key) = ca.issue(&[name], name);
        std::fs::write(certs.join(format!("{name}.pem")), cert).expect("write");
        std::fs::write(certs.join(format!("{name}.pem.key")), key).expect("write");
    }
    let loaded = load_path(&certs, &provider()).expect("directory");
    let names: Vec<_> = loaded.iter().map(|l| l.names[0].clone()).collect();
    assert_eq!(names, vec!["a.example", "b.example"]);
}

/// Three certificates: exact names, a wildcard, and the default.
struct ThreeSites {
    dir: Dir,
    ca: Ca,
    ders: Vec<Vec<u8>>,
    paths: Vec<PathBuf>,
}

fn three_sites() -> ThreeSites {
    let dir = Dir::new();
    let ca = Ca::new("test CA");
    let mut ders = Vec::new();
    let mut paths = Vec::new();
    for (file, names) in [
        ("default.pem", &["default.example"][..]),
        ("api.pem", &["api.example", "api2.example"][..]),
        ("wild.pem", &["*.wild.example"][..]),
    ] {
        let (cert, key) = ca.issue(names, names[0]);
        ders.push(der_of(&cert));
        paths.push(dir.write(file, &format!("{cert}{key}")));
    }
    ThreeSites {
        dir,
        ca,
        ders,
        paths,
    }
}

#[test]
fn sni_picks_among_three_certificates() {
    let sites = three_sites();
    let server = config(&bind_tls(sites.paths.clone()));
    let cases = [
        ("api.example", 1),
        ("API2.example", 1),
        ("x.wild.example", 2),
        ("default.example", 0),
        ("other.example", 0),
        // A wildcard covers one label only.
        ("a.b.wild.example", 0),
    ];
    for (name, want) in cases {
        let client = client(&sites.ca.pem, None);
        let (c, s) = match handshake(client, name, Arc::clone(&server)) {
            Ok(pair) => pair,
            // The default certificate does not match: the client refuses it.
            Err(_) if want == 0 && name != "default.example" => continue,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(leaf(&c), sites.ders[want], "{name}");
        let info = TlsInfo::from_connection(&s);
        assert_eq!(
            info.sni.as_deref(),
            Some(name.to_ascii_lowercase().as_str())
        );
    }
}

#[test]
fn sni_resolver_without_handshakes() {
    let sites = three_sites();
    let p = provider();
    let certs = sites
        .paths
        .iter()
        .map(|path| {
            let l = load_file(path, &p).expect("load");
            SniCert {
                key: l.key,
                names: l.names,
                excluded: Vec::new(),
            }
        })
        .collect();
    let resolver = SniResolver::new(certs).expect("resolver");
    assert_eq!(resolver.choose_index(None), 0);
    assert_eq!(resolver.choose_index(Some("api.example.")), 1);
    assert_eq!(resolver.choose_index(Some("q.wild.example")), 2);
    assert_eq!(resolver.choose_index(Some("wild.example")), 0);
    assert!(SniResolver::new(Vec::new()).is_none());
}

#[test]
fn crt_list_filters_choose_and_exclude() {
    let sites = three_sites();
    let list = sites.dir.write(
        "list.txt",
        &format!(
            "# default first, with no names of its own\n{} !*\n{} other.example\n{} *.wild.example !secret.wild.example\n",
            sites.paths[0].display(),
            sites.paths[1].display(),
            sites.paths[2].display()
        ),
    );
    let tls = BindTls {
        certs: vec![crt_list(list)],
        ..BindTls::default()
    };
    let setup = bind_setup(&tls, &Global::default()).expect("crt-list bind");
    assert_eq!(setup.certificates, 3);
    let server = setup.config;
    // A client that accepts any certificate shows which one was chosen.
    let any = server_connector(&ServerTls {
        verify: false,
        ca_file: None,
        sni: None,
    })
    .expect("connector");
    let chosen = |name: &str| match handshake(Arc::clone(&any), name, Arc::clone(&server)) {
        Ok((c, _)) => leaf(&c),
        Err(e) => panic!("{name}: {e}"),
    };
    assert_eq!(chosen("other.example"), sites.ders[1]);
    assert_eq!(chosen("x.wild.example"), sites.ders[2]);
    // api.example is in the certificate but the filter replaces its names.
    assert_eq!(chosen("api.example"), sites.ders[0]);
    // Excluded from the wildcard: the default answers.
    assert_eq!(chosen("secret.wild.example"), sites.ders[0]);
    // '!*' keeps the default certificate out of name matching.
    assert_eq!(chosen("default.example"), sites.ders[0]);
}

#[test]
fn crt_list_error_names_the_list_and_line() {
    let sites = three_sites();
    let list = sites.dir.write(
        "list.txt",
        &format!("{}\n/nonexistent/cert.pem\n", sites.paths[0].display()),
    );
    let tls = BindTls {
        certs: vec![crt_list(list.clone())],
        ..BindTls::default()
    };
    match bind_config(&tls, &Global::default()) {
        Err(TlsError::CrtList { path, line, reason }) => {
            assert_eq!(path, list);
            assert_eq!(line, 2);
            assert!(reason.contains("/nonexistent/cert.pem"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// A bind requiring client certificates from `client_ca`.
fn mtls_bind(sites: &ThreeSites, client_ca: &Ca) -> Arc<ServerConfig> {
    verifying_bind(sites, client_ca, Verify::Required)
}

/// A bind asking for client certificates from `client_ca` per `verify`.
fn verifying_bind(sites: &ThreeSites, client_ca: &Ca, verify: Verify) -> Arc<ServerConfig> {
    let ca_file = sites.dir.write("clients.pem", &client_ca.pem);
    config(&BindTls {
        certs: vec![BindCert::Crt(sites.paths[1].clone())],
        ca_file: Some(ca_file),
        verify,
        ..BindTls::default()
    })
}

#[test]
fn mutual_tls_rejects_a_client_without_certificate() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let server = mtls_bind(&sites, &clients);
    let result = handshake(client(&sites.ca.pem, None), "api.example", server);
    assert!(result.is_err(), "no client certificate must fail");
}

#[test]
fn mutual_tls_rejects_a_certificate_from_another_ca() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let stranger = Ca::new("other CA");
    let server = mtls_bind(&sites, &clients);
    let (cert, key) = stranger.issue(&[], "mallory");
    let result = handshake(
        client(&sites.ca.pem, Some((&cert, &key))),
        "api.example",
        server,
    );
    assert!(result.is_err());
}

#[test]
fn mutual_tls_accepts_and_reports_the_client() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let server = mtls_bind(&sites, &clients);
    let (cert, key) = clients.issue(&[], "alice");
    let (_, s) = handshake(
        client(&sites.ca.pem, Some((&cert, &key))),
        "api.example",
        server,
    )
    .expect("client with a certificate");
    let info = TlsInfo::from_connection(&s);
    assert!(info.client_cert_used);
    assert_eq!(info.client_verify, 0);
    assert_eq!(info.client_subject_entry("CN", 0), Some("alice"));
    assert_eq!(info.client_subject_entry("O", 1), Some("lbd test"));
    assert_eq!(info.client_subject_entry("O", 2), None);
    assert_eq!(
        info.client_subject_dn().as_deref(),
        Some("/CN=alice/O=lbd test")
    );
}

#[test]
fn verify_optional_serves_a_client_without_certificate() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let server = verifying_bind(&sites, &clients, Verify::Optional);
    let (_, s) = handshake(client(&sites.ca.pem, None), "api.example", server)
        .expect("no certificate is fine with 'verify optional'");
    let info = TlsInfo::from_connection(&s);
    assert!(!info.client_cert_used);
    assert_eq!(info.client_verify, 0);
}

#[test]
fn verify_optional_checks_a_certificate_that_is_sent() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let server = verifying_bind(&sites, &clients, Verify::Optional);
    let (cert, key) = clients.issue(&[], "alice");
    let (_, s) = handshake(
        client(&sites.ca.pem, Some((&cert, &key))),
        "api.example",
        Arc::clone(&server),
    )
    .expect("a certificate from the CA");
    let info = TlsInfo::from_connection(&s);
    assert!(info.client_cert_used);
    assert_eq!(info.client_subject_entry("CN", 0), Some("alice"));
    let (cert, key) = Ca::new("other CA").issue(&[], "mallory");
    let result = handshake(
        client(&sites.ca.pem, Some((&cert, &key))),
        "api.example",
        server,
    );
    assert!(result.is_err(), "a certificate from another CA must fail");
}

#[test]
fn verify_none_does_not_ask_for_a_certificate() {
    let sites = three_sites();
    let clients = Ca::new("client CA");
    let server = verifying_bind(&sites, &clients, Verify::None);
    let (cert, key) = Ca::new("other CA").issue(&[], "mallory");
    let (_, s) = handshake(
        client(&sites.ca.pem, Some((&cert, &key))),
        "api.example",
        server,
    )
    .expect("not asked, so not checked");
    assert!(!TlsInfo::from_connection(&s).client_cert_used);
}

#[test]
fn crt_and_crt_list_keep_the_order_of_the_line() {
    let sites = three_sites();
    let list = sites
        .dir
        .write("list.txt", &format!("{}\n", sites.paths[1].display()));
    let any = server_connector(&ServerTls {
        verify: false,
        ca_file: None,
        sni: None,
    })
    .expect("connector");
    let default_of = |certs: Vec<BindCert>| {
        let server = config(&BindTls {
            certs,
            ..BindTls::default()
        });
        match handshake(Arc::clone(&any), "unknown.example", server) {
            Ok((c, _)) => leaf(&c),
            Err(e) => panic!("{e}"),
        }
    };
    let crt = || BindCert::Crt(sites.paths[2].clone());
    assert_eq!(
        default_of(vec![crt_list(list.clone()), crt()]),
        sites.ders[1]
    );
    assert_eq!(default_of(vec![crt(), crt_list(list)]), sites.ders[2]);
}

#[test]
fn crt_list_names_resolve_from_its_directory_setting() {
    let sites = three_sites();
    // Relative names, as written under a crt-base.
    let list = sites.dir.write("list.txt", "api.pem\nwild.pem\n");
    let tls = BindTls {
        certs: vec![BindCert::CrtList {
            path: list.clone(),
            dir: sites.dir.0.clone(),
        }],
        ..BindTls::default()
    };
    let setup = bind_setup(&tls, &Global::default()).expect("names below dir");
    assert_eq!(setup.certificates, 2);
    // Not from the list's own directory when `dir` says otherwise.
    let elsewhere = BindTls {
        certs: vec![BindCert::CrtList {
            path: list,
            dir: sites.dir.0.join("nope"),
        }],
        ..BindTls::default()
    };
    match bind_config(&elsewhere, &Global::default()) {
        Err(TlsError::CrtList {
            line: 1, reason, ..
        }) => {
            assert!(reason.contains("nope/api.pem"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn verify_required_needs_a_ca_file() {
    let sites = three_sites();
    let tls = BindTls {
        certs: vec![BindCert::Crt(sites.paths[0].clone())],
        verify: Verify::Required,
        ..BindTls::default()
    };
    assert_eq!(
        bind_config(&tls, &Global::default()).map(|_| ()),
        Err(TlsError::MissingCaFile { side: "bind" })
    );
    let optional = BindTls {
        verify: Verify::Optional,
        ..tls
    };
    assert_eq!(
        bind_config(&optional, &Global::default()).map(|_| ()),
        Err(TlsError::MissingCaFile { side: "bind" })
    );
    let server = ServerTls {
        verify: true,
        ca_file: None,
        sni: None,
    };
    assert_eq!(
        server_connector(&server).map(|_| ()),
        Err(TlsError::MissingCaFile { side: "server" })
    );
}

#[test]
fn handshake_facts_alpn_protocol_cipher() {
    let sites = three_sites();
    let mut tls = bind_tls(vec![sites.paths[1].clone()]);
    tls.alpn = vec!["h2".to_string(), "http/1.1".to_string()];
    tls.min_version = Some("TLSv1.3".to_string());
    let setup = bind_setup(&tls, &Global::default()).expect("bind");
    assert_eq!(setup.warnings.len(), 1, "{:?}", setup.warnings);
    let (_, s) =
        handshake(client(&sites.ca.pem, None), "api.example", setup.config).expect("handshake");
    let info = TlsInfo::from_connection(&s);
    assert_eq!(info.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(info.protocol, Some("TLSv1.3"));
    assert!(info.cipher.is_some_and(|c| c.starts_with("TLS_")));
    assert!(!info.client_cert_used);
    assert_eq!(info.client_subject_dn(), None);
}

#[test]
fn ciphers_limit_tls12() {
    let sites = three_sites();
    let mut tls = bind_tls(vec![sites.paths[1].clone()]);
    tls.ciphers = Some("ECDHE-ECDSA-CHACHA20-POLY1305".to_string());
    let global = Global {
        ssl_default_bind_options: vec!["force-tlsv12".to_string()],
        ..Global::default()
    };
    let server = bind_config(&tls, &global).expect("bind");
    let (_, s) = handshake(client(&sites.ca.pem, None), "api.example", server).expect("tls1.2");
    let info = TlsInfo::from_connection(&s);
    assert_eq!(info.protocol, Some("TLSv1.2"));
    assert_eq!(info.cipher, Some("ECDHE-ECDSA-CHACHA20-POLY1305"));
    // An RSA-only list leaves an ECDSA certificate nothing to sign with.
    tls.ciphers = Some("ECDHE-RSA-AES128-GCM-SHA256".to_string());
    let server = bind_config(&tls, &global).expect("bind");
    assert!(handshake(client(&sites.ca.pem, None), "api.example", server).is_err());
    tls.ciphers = Some("ECDHE-RSA-AES128-GCM-SHA265".to_string());
    assert!(matches!(
        bind_config(&tls, &global),
        Err(TlsError::UnknownCipher { .. })
    ));
    tls.ciphers = Some("DHE-RSA-AES128-GCM-SHA256".to_string());
    assert_eq!(
        bind_config(&tls, &global).map(|_| ()),
        Err(TlsError::NoUsableCipher)
    );
}

/// A server (the backend) with `cert` for `name`, and lbd's connector.
fn to_backend(sites: &ThreeSites, tls: &ServerTls, name_for_rustls: &str) -> bool {
    let backend = config(&bind_tls(vec![sites.paths[1].clone()]));
    let connector = server_connector(tls).expect("connector");
    let addr: std::net::SocketAddr = "127.0.0.1:443".parse().expect("addr");
    let name = if name_for_rustls.is_empty() {
        server_name(tls, addr)
    } else {
        ServerName::try_from(name_for_rustls.to_string()).expect("name")
    };
    let mut c = ClientConnection::new(connector, name).expect("client");
    let mut s = ServerConnection::new(backend).expect("server");
    for _ in 0..10 {
        if pump(&mut c, &mut s).is_err() || pump(&mut s, &mut c).is_err() {
            return false;
        }
    }
    !c.is_handshaking()
}

#[test]
fn server_verify_required_with_sni() {
    let sites = three_sites();
    let ca_file = sites.dir.write("ca.pem", &sites.ca.pem);
    let good = ServerTls {
        verify: true,
        ca_file: Some(ca_file.clone()),
        sni: Some("api.example".to_string()),
    };
    assert!(to_backend(&sites, &good, ""));
    let wrong_name = ServerTls {
        sni: Some("www.example".to_string()),
        ..good.clone()
    };
    assert!(!to_backend(&sites, &wrong_name, ""));
    // No sni: the chain is checked, no name.
    let no_sni = ServerTls {
        sni: None,
        ..good.clone()
    };
    assert!(to_backend(&sites, &no_sni, ""));
    let other_ca = Ca::new("other CA");
    let other_file = sites.dir.write("other.pem", &other_ca.pem);
    let untrusted = ServerTls {
        ca_file: Some(other_file),
        ..no_sni
    };
    assert!(!to_backend(&sites, &untrusted, ""));
}

#[test]
fn server_verify_none_accepts_any_certificate() {
    let sites = three_sites();
    let none = ServerTls {
        verify: false,
        ca_file: None,
        sni: Some("anything.example".to_string()),
    };
    assert!(to_backend(&sites, &none, ""));
    assert_eq!(
        server_connector(&ServerTls {
            sni: Some("bad name!".to_string()),
            ..none
        })
        .map(|_| ()),
        Err(TlsError::BadSni {
            name: "bad name!".to_string()
        })
    );
}

#[test]
fn server_sessions_are_resumed() {
    let sites = three_sites();
    let ca_file = sites.dir.write("ca.pem", &sites.ca.pem);
    let connector = server_connector(&ServerTls {
        verify: true,
        ca_file: Some(ca_file),
        sni: Some("api.example".to_string()),
    })
    .expect("connector");
    let backend = config(&bind_tls(vec![sites.paths[1].clone()]));
    let first =
        handshake(Arc::clone(&connector), "api.example", Arc::clone(&backend)).expect("first");
    assert_eq!(first.0.handshake_kind(), Some(HandshakeKind::Full));
    let second = handshake(connector, "api.example", backend).expect("second");
    assert_eq!(second.0.handshake_kind(), Some(HandshakeKind::Resumed));
}

/// The first flight of a rustls client, as it goes on the wire.
fn client_hello(name: ServerName<'static>) -> Vec<u8> {
    let config = client(&Ca::new("x").pem, None);
    let mut c = ClientConnection::new(config, name).expect("client");
    let mut wire = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut wire).expect("write");
    }
    wire
}

#[test]
fn client_hello_sni_from_real_bytes() {
    let hello = client_hello(ServerName::try_from("api.example").expect("name"));
    assert_eq!(peek_client_hello_sni(&hello), Some("api.example"));
    let by_ip = client_hello(ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    assert_eq!(peek_client_hello(&by_ip), Peek::ClientHello { sni: None });
    // Every prefix is incomplete, never a wrong answer.
    for len in 0..hello.len() {
        assert_eq!(peek_client_hello(&hello[..len]), Peek::Incomplete, "{len}");
    }
    assert_eq!(
        peek_client_hello(b"GET / HTTP/1.1\r\n"),
        Peek::NotClientHello
    );
}

#[test]
fn client_hello_parser_survives_any_mutation() {
    let hello = client_hello(ServerName::try_from("api.example").expect("name"));
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        // xorshift: a fixed, reproducible stream of mutations.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bytes = hello.clone();
        let at = (state as usize) % bytes.len();
        bytes[at] = (state >> 32) as u8;
        let cut = ((state >> 16) as usize) % (bytes.len() + 1);
        let _peek = peek_client_hello(&bytes[..cut]);
    }
}

#[test]
fn subject_and_names_of_a_certificate() {
    let ca = Ca::new("test CA");
    let (cert, _) = ca.issue_with(
        &["one.example", "*.two.example"],
        "Main.Example",
        KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("p384"),
    );
    let der = der_of(&cert);
    assert_eq!(
        der::dns_names(&der),
        vec!["one.example", "*.two.example", "main.example"]
    );
    let subject = der::subject(&der).expect("subject");
    let names: Vec<_> = subject.iter().map(|e| e.short_name()).collect();
    // rcgen writes the CN first, where its default subject had it.
    assert_eq!(names, vec!["CN", "O"]);
    let _ = PKCS_ECDSA_P256_SHA256;
}

#[test]
fn a_ca_file_is_loaded_even_without_verification() {
    let sites = three_sites();
    let missing = sites.dir.0.join("missing-ca.pem");
    let tls = BindTls {
        ca_file: Some(missing.clone()),
        ..bind_tls(vec![sites.paths[0].clone()])
    };
    let err = bind_config(&tls, &Global::default()).map(|_| ());
    assert!(
        matches!(&err, Err(TlsError::Read { path, .. }) if *path == missing),
        "{err:?}"
    );
    let server = ServerTls {
        verify: false,
        ca_file: Some(missing.clone()),
        sni: None,
    };
    let err = server_connector(&server).map(|_| ());
    assert!(
        matches!(&err, Err(TlsError::Read { path, .. }) if *path == missing),
        "{err:?}"
    );
}

#[test]
fn validate_path_is_in_every_error() {
    let dir = Dir::new();
    let path: &Path = &dir.0.join("missing.pem");
    let err = bind_config(&bind_tls(vec![path.to_path_buf()]), &Global::default());
    let message = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("missing.pem"), "{message}");
}

#[test]
fn stream_accept_and_connect_over_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let sites = three_sites();
    let ca_file = sites.dir.write("ca.pem", &sites.ca.pem);
    let mut tls = bind_tls(vec![sites.paths[1].clone()]);
    tls.alpn = vec!["http/1.1".to_string()];
    let server = config(&tls);
    let server_tls = ServerTls {
        verify: true,
        ca_file: Some(ca_file),
        sni: Some("api.example".to_string()),
    };
    let connector = server_connector(&server_tls).expect("connector");
    let name = server_name(&server_tls, "127.0.0.1:443".parse().expect("addr"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let (a, b) = tokio::io::duplex(4096);
        let serve = async move {
            let (mut stream, info) = accept(server, a).await.expect("accept");
            assert!(stream.is_tls());
            assert_eq!(info.sni.as_deref(), Some("api.example"));
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.expect("read");
            stream.write_all(&buf).await.expect("write");
            stream.flush().await.expect("flush");
        };
        let talk = async move {
            let mut stream = connect(connector, name, b).await.expect("connect");
            stream.write_all(b"ping").await.expect("write");
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.expect("read");
            assert_eq!(&buf, b"ping");
        };
        tokio::join!(serve, talk);
    });
}

#[test]
fn stream_handshake_failure_is_an_error_not_a_panic() {
    use tokio::io::AsyncWriteExt;

    let sites = three_sites();
    let server = config(&bind_tls(vec![sites.paths[0].clone()]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let (a, mut b) = tokio::io::duplex(4096);
        let talk = async move {
            b.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            b.shutdown().await.expect("shutdown");
            b
        };
        let (result, _b) = tokio::join!(accept(server, a), talk);
        let err = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("SSL handshake failure"), "{err}");
    });
}
