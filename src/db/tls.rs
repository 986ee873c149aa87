//! TLS to Postgres as the `DATABASE_URL` asks for it (`sslmode`, `sslrootcert`).
//!
//! Heroku Postgres needs TLS but presents certificates no client can verify, so
//! `sslmode=require` (and `prefer`, the default) encrypts without verifying, as libpq does.
//! `verify-ca` checks the chain against `sslrootcert` (or the public roots), and
//! `verify-full` the host name too. `disable` talks plain TCP.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why the URL's TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("DATABASE_URL is not a valid URL")]
    Url(#[from] url::ParseError),
    #[error("sslmode={0} is not supported (disable, prefer, require, verify-ca, verify-full)")]
    Mode(String),
    #[error("cannot read sslrootcert {path}")]
    RootCert {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sslrootcert {0} holds no usable certificate")]
    NoRoots(String),
    #[error("database settings are invalid")]
    Config(#[from] tokio_postgres::Error),
    #[error("TLS set-up failed")]
    Rustls(#[from] rustls::Error),
    #[error("the certificate verifier could not be built")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// How much the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encrypt, trust whatever certificate is presented.
    Nothing,
    /// The chain must lead to a trusted root; any host name.
    Chain,
    /// The chain and the host name.
    Full,
}

/// Splits the URL into tokio-postgres settings and the TLS connector they need.
pub fn connect_config(
    database_url: &str,
) -> Result<(tokio_postgres::Config, MakeRustlsConnect), TlsError> {
    let mut url = url::Url::parse(database_url)?;
    let mut mode = "prefer".to_owned();
    let mut root_cert = None;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslmode" => {
                mode = v.into_owned();
                None
            }
            "sslrootcert" => {
                root_cert = Some(v.into_owned());
                None
            }
            _ => Some((k.into_owned(), v.into_owned())),
        })
        .collect();
    let (pg_mode, check) = match mode.as_str() {
        "disable" | "allow" => ("disable", Check::Nothing),
        "prefer" => ("prefer", Check::Nothing),
        "require" => ("require", Check::Nothing),
        "verify-ca" => ("require", Check::Chain),
        "verify-full" => ("require", Check::Full),
        other => return Err(TlsError::Mode(other.to_owned())),
    };
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("sslmode", pg_mode);
    let config: tokio_postgres::Config = url.as_str().parse()?;
    Ok((
        config,
        MakeRustlsConnect::new(client_config(check, root_cert.as_deref())?),
    ))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(check: Check, root_cert: Option<&str>) -> Result<ClientConfig, TlsError> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    if check == Check::Nothing {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| TlsError::RootCert {
                path: path.to_owned(),
                source,
            })?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TlsError::NoRoots(path.to_owned()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()?;
    let builder = builder.dangerous();
    Ok(match check {
        Check::Chain => builder.with_custom_certificate_verifier(Arc::new(AnyHostName(verifier))),
        _ => builder.with_custom_certificate_verifier(verifier),
    }
    .with_no_client_auth())
}

/// `sslmode=require`: the connection is encrypted, the certificate is not checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain is checked, the host name is not.
#[derive(Debug)]
struct AnyHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_become_require_for_the_driver() {
        for mode in ["require", "verify-full"] {
            let (config, _) = connect_config(&format!("postgres://u@h/db?sslmode={mode}")).unwrap();
            assert_eq!(
                config.get_ssl_mode(),
                tokio_postgres::config::SslMode::Require
            );
        }
        let (config, _) = connect_config("postgres://u@h/db").unwrap();
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Prefer
        );
    }

    #[test]
    fn an_unknown_mode_or_missing_root_certificate_is_named() {
        assert!(matches!(
            connect_config("postgres://u@h/db?sslmode=sure"),
            Err(TlsError::Mode(_))
        ));
        assert!(matches!(
            connect_config("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent.pem"),
            Err(TlsError::RootCert { .. })
        ));
    }
}
