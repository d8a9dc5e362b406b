//! Errors of TLS set-up: each names the file and says what is wrong with it.

use std::fmt;
use std::path::PathBuf;

/// Why a bind's or a server's TLS configuration cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// A file or directory could not be read.
    Read { path: PathBuf, reason: String },
    /// A PEM file holds no certificate.
    NoCertificate { path: PathBuf },
    /// A PEM file holds a certificate but no private key (nor does `<file>.key`).
    NoKey { path: PathBuf },
    /// A PEM section could not be decoded.
    BadPem { path: PathBuf, reason: String },
    /// The private key is of a kind or format the crypto provider cannot use.
    BadKey { path: PathBuf, reason: String },
    /// The private key does not belong to the first certificate of the chain.
    KeyMismatch { path: PathBuf },
    /// A `crt` directory holds no certificate file.
    EmptyDirectory { path: PathBuf },
    /// A line of a `crt-list` file is wrong.
    CrtList {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A CA file holds no usable certificate.
    BadCaFile { path: PathBuf, reason: String },
    /// `verify required` without a `ca-file` to verify against.
    MissingCaFile { side: &'static str },
    /// A cipher name in `ciphers`/`ciphersuites` that is not an OpenSSL name.
    UnknownCipher { keyword: &'static str, name: String },
    /// The cipher lists leave no suite usable with the allowed TLS versions.
    NoUsableCipher,
    /// A TLS version name that is not one of SSLv3, TLSv1.0 .. TLSv1.3.
    UnknownVersion { keyword: &'static str, name: String },
    /// An `ssl-default-bind-options` word lbd does not know.
    UnknownBindOption { name: String },
    /// `sni` is not a valid host name.
    BadSni { name: String },
    /// rustls refused the configuration.
    Rustls { reason: String },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, reason } => {
                write!(f, "cannot read '{}': {reason}", path.display())
            }
            TlsError::NoCertificate { path } => {
                write!(f, "'{}' holds no certificate", path.display())
            }
            TlsError::NoKey { path } => write!(
                f,
                "'{}' holds no private key (nor does '{}.key')",
                path.display(),
                path.display()
            ),
            TlsError::BadPem { path, reason } => {
                write!(f, "'{}' is not valid PEM: {reason}", path.display())
            }
            TlsError::BadKey { path, reason } => {
                write!(f, "unusable private key in '{}': {reason}", path.display())
            }
            TlsError::KeyMismatch { path } => write!(
                f,
                "the private key in '{}' does not match its certificate",
                path.display()
            ),
            TlsError::EmptyDirectory { path } => write!(
                f,
                "certificate directory '{}' holds no certificate file",
                path.display()
            ),
            TlsError::CrtList { path, line, reason } => {
                write!(f, "crt-list '{}' line {line}: {reason}", path.display())
            }
            TlsError::BadCaFile { path, reason } => {
                write!(f, "CA file '{}': {reason}", path.display())
            }
            TlsError::MissingCaFile { side } => write!(
                f,
                "'verify required' on a {side} needs a 'ca-file' (or use 'verify none')"
            ),
            TlsError::UnknownCipher { keyword, name } => {
                write!(f, "'{keyword}': unknown cipher '{name}'")
            }
            TlsError::NoUsableCipher => {
                write!(f, "no cipher suite left for the allowed TLS versions")
            }
            TlsError::UnknownVersion { keyword, name } => {
                write!(f, "'{keyword}' expects a TLS version, got '{name}'")
            }
            TlsError::UnknownBindOption { name } => {
                write!(f, "'ssl-default-bind-options': unknown option '{name}'")
            }
            TlsError::BadSni { name } => write!(f, "'sni {name}' is not a valid host name"),
            TlsError::Rustls { reason } => write!(f, "TLS configuration refused: {reason}"),
        }
    }
}

impl std::error::Error for TlsError {}
