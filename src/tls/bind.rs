//! The rustls server configuration of a `bind ... ssl` line.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::version::{TLS12, TLS13};
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::certfile::{self, LoadedCert};
use super::cipher;
use super::crtlist;
use super::error::TlsError;
use super::sni::{SniCert, SniResolver};
use crate::compile::program::{BindCert, BindTls, Global, Verify};

/// A bind's TLS configuration with what `lbd -c` should warn about.
#[derive(Debug, Clone)]
pub struct BindSetup {
    pub config: Arc<ServerConfig>,
    /// How many certificates the SNI resolver chooses from.
    pub certificates: usize,
    pub warnings: Vec<String>,
}

/// Builds the server configuration of a TLS bind: loads every certificate,
/// applies the bind's settings over `global`'s `ssl-default-bind-*`.
pub fn bind_config(tls: &BindTls, global: &Global) -> Result<Arc<ServerConfig>, TlsError> {
    Ok(bind_setup(tls, global)?.config)
}

/// `bind_config` with the warnings kept.
pub fn bind_setup(tls: &BindTls, global: &Global) -> Result<BindSetup, TlsError> {
    let base = super::provider();
    let mut warnings = Vec::new();
    let options = BindOptions::parse(&global.ssl_default_bind_options)?;
    let versions = options.versions(tls.min_version.as_deref())?;
    let provider = with_ciphers(&base, tls, global, &versions, &mut warnings)?;
    let certs = load_certificates(tls, &provider)?;
    let certificates = certs.len();
    let Some(resolver) = SniResolver::new(certs) else {
        return Err(TlsError::Rustls {
            reason: "a TLS bind needs at least one certificate".to_string(),
        });
    };
    let builder = ServerConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_protocol_versions(&versions)
        .map_err(rustls_error)?;
    let builder = match client_verifier(tls, provider)? {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    // HAProxy has OpenSSL prefer the server's order unless told otherwise.
    config.ignore_client_order = !options.prefer_client_ciphers;
    if options.no_tls_tickets {
        config.send_tls13_tickets = 0;
    }
    config.alpn_protocols = alpn(&tls.alpn, &mut warnings);
    Ok(BindSetup {
        config: Arc::new(config),
        certificates,
        warnings,
    })
}

/// How the bind checks client certificates per `verify`; `None` when it
/// asks for none. `optional` asks, serves a client that sends nothing, but
/// still refuses a certificate that does not verify against `ca-file`.
fn client_verifier(
    tls: &BindTls,
    provider: CryptoProvider,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    let Some(ca_file) = &tls.ca_file else {
        return match tls.verify {
            Verify::None => Ok(None),
            Verify::Optional | Verify::Required => Err(TlsError::MissingCaFile { side: "bind" }),
        };
    };
    // HAProxy loads a ca-file even when it asks for no client certificate:
    // a missing or broken one is an error all the same.
    let roots = root_store(ca_file)?;
    if tls.verify == Verify::None {
        return Ok(None);
    }
    let mut builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::new(provider));
    if tls.verify == Verify::Optional {
        builder = builder.allow_unauthenticated();
    }
    let verifier = builder.build().map_err(|e| TlsError::BadCaFile {
        path: ca_file.clone(),
        reason: e.to_string(),
    })?;
    Ok(Some(verifier))
}

/// Reads a CA file into a trust store, naming the file on error.
pub fn root_store(path: &Path) -> Result<RootCertStore, TlsError> {
    let bytes = certfile::read(path)?;
    let certs = certfile::certificates(path, &bytes)?;
    if certs.is_empty() {
        return Err(TlsError::BadCaFile {
            path: path.to_path_buf(),
            reason: "no certificate in it".to_string(),
        });
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| TlsError::BadCaFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// The words of `ssl-default-bind-options` lbd acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct BindOptions {
    min: Option<String>,
    max: Option<String>,
    no_tls12: bool,
    no_tls13: bool,
    prefer_client_ciphers: bool,
    no_tls_tickets: bool,
}

impl BindOptions {
    fn parse(words: &[String]) -> Result<BindOptions, TlsError> {
        let mut options = BindOptions::default();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            match word.as_str() {
                "ssl-min-ver" | "ssl-max-ver" => {
                    let value = words.next().cloned().unwrap_or_default();
                    parse_version(&value, "ssl-default-bind-options")?;
                    match word.as_str() {
                        "ssl-min-ver" => options.min = Some(value),
                        _ => options.max = Some(value),
                    }
                }
                // rustls never speaks SSLv3, TLS 1.0 or 1.1.
                "no-sslv3" | "no-tlsv10" | "no-tlsv11" => {}
                "no-tlsv12" => options.no_tls12 = true,
                "no-tlsv13" => options.no_tls13 = true,
                "force-tlsv12" => options.no_tls13 = true,
                "force-tlsv13" => options.no_tls12 = true,
                "prefer-client-ciphers" => options.prefer_client_ciphers = true,
                "no-tls-tickets" => options.no_tls_tickets = true,
                other => {
                    return Err(TlsError::UnknownBindOption {
                        name: other.to_string(),
                    });
                }
            }
        }
        Ok(options)
    }

    /// The versions allowed once the bind's `ssl-min-ver` (which wins over
    /// the global one) is applied.
    fn versions(
        &self,
        bind_min: Option<&str>,
    ) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
        let min = match bind_min {
            Some(v) => parse_version(v, "ssl-min-ver")?,
            None => match &self.min {
                Some(v) => parse_version(v, "ssl-default-bind-options")?,
                None => 0,
            },
        };
        let max = match &self.max {
            Some(v) => parse_version(v, "ssl-default-bind-options")?,
            None => 13,
        };
        let mut versions = Vec::new();
        if min <= 12 && max >= 12 && !self.no_tls12 {
            versions.push(&TLS12);
        }
        if max >= 13 && !self.no_tls13 {
            versions.push(&TLS13);
        }
        if versions.is_empty() {
            return Err(TlsError::Rustls {
                reason: "the TLS version settings leave no version that rustls supports (TLSv1.2, TLSv1.3)".to_string(),
            });
        }
        Ok(versions)
    }
}

/// `SSLv3`..`TLSv1.3` as 3, 10, 11, 12, 13.
fn parse_version(name: &str, keyword: &'static str) -> Result<u8, TlsError> {
    Ok(match name {
        "SSLv3" => 3,
        "TLSv1.0" => 10,
        "TLSv1.1" => 11,
        "TLSv1.2" => 12,
        "TLSv1.3" => 13,
        _ => {
            return Err(TlsError::UnknownVersion {
                keyword,
                name: name.to_string(),
            });
        }
    })
}

/// The provider restricted to the bind's (or the global) cipher lists.
fn with_ciphers(
    base: &CryptoProvider,
    tls: &BindTls,
    global: &Global,
    versions: &[&'static SupportedProtocolVersion],
    warnings: &mut Vec<String>,
) -> Result<CryptoProvider, TlsError> {
    let (mut tls13, mut tls12): (Vec<_>, Vec<_>) = base
        .cipher_suites
        .iter()
        .partition(|s| s.version() == &TLS13);
    if let Some(list) = tls
        .ciphers
        .as_ref()
        .or(global.ssl_default_bind_ciphers.as_ref())
    {
        let selection = cipher::tls12(list, &base.cipher_suites)?;
        warnings.extend(selection.warnings);
        tls12 = selection.suites;
    }
    if let Some(list) = tls
        .ciphersuites
        .as_ref()
        .or(global.ssl_default_bind_ciphersuites.as_ref())
    {
        let selection = cipher::tls13(list, &base.cipher_suites)?;
        warnings.extend(selection.warnings);
        tls13 = selection.suites;
    }
    let suites: Vec<_> = tls13.into_iter().chain(tls12).collect();
    if !suites.iter().any(|s| versions.contains(&s.version())) {
        return Err(TlsError::NoUsableCipher);
    }
    Ok(CryptoProvider {
        cipher_suites: suites,
        ..base.clone()
    })
}

/// Certificates of `crt` and `crt-list` in the order of the bind line: the
/// first is the default certificate.
fn load_certificates(tls: &BindTls, provider: &CryptoProvider) -> Result<Vec<SniCert>, TlsError> {
    let mut certs = Vec::new();
    for source in &tls.certs {
        match source {
            BindCert::Crt(path) => {
                for loaded in certfile::load_path(path, provider)? {
                    certs.push(sni_cert(loaded, Vec::new(), Vec::new()));
                }
            }
            BindCert::CrtList { path, dir } => load_crt_list(path, dir, provider, &mut certs)?,
        }
    }
    Ok(certs)
}

/// Appends the certificates of a crt-list; relative names in it resolve
/// from `dir`.
fn load_crt_list(
    list: &Path,
    dir: &Path,
    provider: &CryptoProvider,
    certs: &mut Vec<SniCert>,
) -> Result<(), TlsError> {
    for entry in crtlist::load(list)? {
        let path = dir.join(&entry.cert);
        let loaded = certfile::load_path(&path, provider).map_err(|e| TlsError::CrtList {
            path: list.to_path_buf(),
            line: entry.line,
            reason: e.to_string(),
        })?;
        for cert in loaded {
            certs.push(sni_cert(
                cert,
                entry.filters.clone(),
                entry.excluded.clone(),
            ));
        }
    }
    Ok(())
}

fn sni_cert(loaded: LoadedCert, filters: Vec<String>, excluded: Vec<String>) -> SniCert {
    SniCert {
        key: loaded.key,
        names: if filters.is_empty() {
            loaded.names
        } else {
            filters
        },
        excluded,
    }
}

/// The ALPN protocols offered. `h2` is dropped until lbd speaks HTTP/2.
fn alpn(list: &[String], warnings: &mut Vec<String>) -> Vec<Vec<u8>> {
    let mut protocols = Vec::new();
    for name in list.iter().filter(|n| !n.is_empty()) {
        if name == "h2" {
            warnings.push(
                "'alpn h2': lbd does not speak HTTP/2 yet, 'h2' is accepted but not offered"
                    .to_string(),
            );
            continue;
        }
        protocols.push(name.as_bytes().to_vec());
    }
    protocols
}

fn rustls_error(e: rustls::Error) -> TlsError {
    TlsError::Rustls {
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bind_options() {
        let words: Vec<String> = ["ssl-min-ver", "TLSv1.3", "no-tls-tickets"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let options = BindOptions::parse(&words);
        let Ok(options) = options else {
            panic!("{options:?}")
        };
        assert!(options.no_tls_tickets);
        assert_eq!(options.versions(None).map(|v| v.len()), Ok(1));
        // The bind's own ssl-min-ver wins over the global one.
        assert_eq!(options.versions(Some("TLSv1.2")).map(|v| v.len()), Ok(2));
        assert_eq!(
            BindOptions::parse(&["no-sslv2".to_string()]),
            Err(TlsError::UnknownBindOption {
                name: "no-sslv2".to_string()
            })
        );
    }

    #[test]
    fn h2_is_not_offered() {
        let mut warnings = Vec::new();
        let list = vec!["h2".to_string(), "http/1.1".to_string()];
        assert_eq!(alpn(&list, &mut warnings), vec![b"http/1.1".to_vec()]);
        assert_eq!(warnings.len(), 1);
    }
}
