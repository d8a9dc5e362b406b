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
