//! The rustls client configuration lbd uses to reach a `server ... ssl`.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};

use super::bind::root_store;
use super::error::TlsError;
use crate::compile::program::ServerTls;

/// Builds the client configuration for one server. It keeps rustls'
/// in-memory session cache, so connections to the server resume sessions
/// (tickets for TLS 1.3, session ids or tickets for TLS 1.2).
///
/// `verify required` checks the chain against `ca-file`, and the name
/// against `sni` when one is set. Without `sni`, HAProxy checks no name
/// (there is none to check against), and neither does lbd.
///
/// `verify none` accepts any certificate: this is what the configuration
/// asks for (a LAN with self-signed servers), the same trust HAProxy gives.
/// The handshake signatures are still checked against the certificate's key,
/// so the peer must hold the key of the certificate it shows.
pub fn server_connector(tls: &ServerTls) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = super::provider();
    if let Some(sni) = &tls.sni {
        server_name_of(sni)?;
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls {
            reason: e.to_string(),
        })?;
    let verifier: Arc<dyn ServerCertVerifier> = match (tls.verify, &tls.ca_file) {
        (true, None) => return Err(TlsError::MissingCaFile { side: "server" }),
        (true, Some(ca_file)) => {
            let roots = root_store(ca_file)?;
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::new(provider.clone()),
            )
            .build()
            .map_err(|e| TlsError::BadCaFile {
                path: ca_file.clone(),
                reason: e.to_string(),
            })?;
            Arc::new(ChainVerifier {
                inner,
                check_name: tls.sni.is_some(),
            })
        }
        (false, ca_file) => {
            // HAProxy loads a ca-file even when it does not verify: a
            // missing or broken one is an error all the same.
            if let Some(ca_file) = ca_file {
                root_store(ca_file)?;
            }
            Arc::new(AcceptAnyCertificate { provider })
        }
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name to connect with: the `sni` (sent to the server and checked in
/// its certificate), else the server's address (rustls sends no SNI for an
/// address).
pub fn server_name(tls: &ServerTls, addr: SocketAddr) -> ServerName<'static> {
    match tls.sni.as_deref().map(server_name_of) {
        Some(Ok(name)) => name,
        // `server_connector` refuses an invalid `sni`, so a program that
        // passed validation never gets here with one.
        _ => ServerName::IpAddress(addr.ip().into()),
    }
}

fn server_name_of(sni: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(sni.to_string()).map_err(|_| TlsError::BadSni {
        name: sni.to_string(),
    })
}

/// The webpki verifier, which checks the chain before the name; without an
/// `sni` a name mismatch alone is accepted.
#[derive(Debug)]
struct ChainVerifier {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match result {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `verify none`: any certificate is accepted (see `server_connector`).
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: CryptoProvider,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
