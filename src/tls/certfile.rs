//! Certificate files: a PEM chain with its private key, or a directory of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::der;
use super::error::TlsError;

/// A certificate chain with its key, and the names it answers to.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    pub path: PathBuf,
    pub key: Arc<CertifiedKey>,
    /// DNS names from the leaf (subjectAltName, then CN), lower-cased.
    pub names: Vec<String>,
}

/// File name endings HAProxy reads as companions of a certificate, not as
/// certificates, when it loads a directory.
const COMPANION_SUFFIXES: &[&str] = &[".key", ".ocsp", ".issuer", ".sctl", ".csr"];

/// Loads `path`: a PEM file, or every certificate file of a directory in
/// name order.
pub fn load_path(path: &Path, provider: &CryptoProvider) -> Result<Vec<LoadedCert>, TlsError> {
    if path.is_dir() {
        load_directory(path, provider)
    } else {
        Ok(vec![load_file(path, provider)?])
    }
}

/// Loads one PEM file holding a chain (leaf first) and its private key.
/// When the file has no key, `<file>.key` is read, as HAProxy does.
pub fn load_file(path: &Path, provider: &CryptoProvider) -> Result<LoadedCert, TlsError> {
    let bytes = read(path)?;
    let chain = certificates(path, &bytes)?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    };
    let names = der::dns_names(leaf);
    let (key_path, key) = match private_key(path, &bytes)? {
        Some(key) => (path.to_path_buf(), key),
        None => {
            let mut side = path.as_os_str().to_owned();
            side.push(".key");
            let side = PathBuf::from(side);
            match side.is_file() {
                true => {
                    let side_bytes = read(&side)?;
                    match private_key(&side, &side_bytes)? {
                        Some(key) => (side, key),
                        None => return Err(no_key(path)),
                    }
                }
                false => return Err(no_key(path)),
            }
        }
    };
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::BadKey {
                path: key_path.clone(),
                reason: e.to_string(),
            })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => return Err(TlsError::KeyMismatch { path: key_path }),
    }
    Ok(LoadedCert {
        path: path.to_path_buf(),
        key: Arc::new(certified),
        names,
    })
}

/// Reads every certificate of a PEM file (a CA file, or a chain).
pub fn certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_pem(path, e))
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn load_directory(dir: &Path, provider: &CryptoProvider) -> Result<Vec<LoadedCert>, TlsError> {
    let read_error = |e: std::io::Error| TlsError::Read {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') || COMPANION_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            continue;
        }
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(TlsError::EmptyDirectory {
            path: dir.to_path_buf(),
        });
    }
    files.iter().map(|f| load_file(f, provider)).collect()
}

/// The first private key of a PEM file (PKCS#1 RSA, SEC1 EC or PKCS#8), if any.
fn private_key(path: &Path, bytes: &[u8]) -> Result<Option<PrivateKeyDer<'static>>, TlsError> {
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(key) => Ok(Some(key)),
        Err(pem::Error::NoItemsFound) => Ok(None),
        Err(e) => Err(bad_pem(path, e)),
    }
}

fn no_key(path: &Path) -> TlsError {
    TlsError::NoKey {
        path: path.to_path_buf(),
    }
}

fn bad_pem(path: &Path, e: pem::Error) -> TlsError {
    TlsError::BadPem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
