//! Verification of the identity provider's access tokens (SPEC §3).
//!
//! Discovery (`<issuer>/.well-known/openid-configuration`) is fetched on first use and
//! cached. The JWKS is cached by `kid`; a token naming an unknown `kid` triggers one
//! refetch, at most once a minute, so a key rotation is picked up without letting junk
//! tokens hammer the provider. Only RS256 and ES256 are accepted: `alg: none` and the
//! HMAC family never reach signature checking.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;
/// The least time between two JWKS fetches triggered by unknown key ids.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Why a provider token was refused, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("access token is malformed")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    #[error("access token algorithm {0:?} is not accepted (RS256 and ES256 only)")]
    AlgorithmRefused(Algorithm),
    #[error("access token names no key id")]
    NoKeyId,
    #[error("access token is signed by an unknown key")]
    UnknownKey,
    #[error("access token is invalid")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("access token carries no email and the userinfo endpoint gave none")]
    NoEmail,
    /// The provider could not be reached or answered nonsense: our problem, not the client's.
    #[error("GET {url} failed")]
    Provider {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The provider's discovery document names another issuer than the one configured.
    #[error("the provider's discovery names issuer {discovered:?}, configured {configured:?}")]
    IssuerMismatch {
        discovered: String,
        configured: String,
    },
}

impl OidcError {
    /// True when the token itself is at fault (401), false when the provider is (503).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            OidcError::Provider { .. } | OidcError::IssuerMismatch { .. }
        )
    }

    fn provider(url: &str) -> impl FnOnce(reqwest::Error) -> OidcError + '_ {
        move |source| OidcError::Provider {
            url: url.to_owned(),
            source,
        }
    }
}

/// The person a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    email: Option<String>,
}

struct CachedKey {
    key: DecodingKey,
    algorithm: Option<Algorithm>,
}

#[derive(Default)]
struct Cache {
    discovery: Option<Discovery>,
    keys: HashMap<String, CachedKey>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens of one issuer for one audience.
pub struct OidcVerifier {
    issuer: String,
    audience: String,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl OidcVerifier {
    pub fn new(issuer: String, audience: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        OidcVerifier {
            issuer,
            audience,
            http,
            cache: Mutex::new(Cache::default()),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(OidcError::provider(url))?;
        response.json().await.map_err(OidcError::provider(url))
    }

    async fn discover(&self, cache: &mut Cache) -> Result<(), OidcError> {
        if cache.discovery.is_some() {
            return Ok(());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await?;
        if discovery.issuer != self.issuer {
            return Err(OidcError::IssuerMismatch {
                discovered: discovery.issuer,
                configured: self.issuer.clone(),
            });
        }
        cache.discovery = Some(discovery);
        Ok(())
    }

    async fn fetch_keys(&self, cache: &mut Cache) -> Result<(), OidcError> {
        self.discover(cache).await?;
        let uri = cache
            .discovery
            .as_ref()
            .map(|d| d.jwks_uri.clone())
            .unwrap_or_default();
        cache.fetched_at = Some(Instant::now());
        let set: JwkSet = self.get_json(&uri).await?;
        cache.keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                let algorithm = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse().ok());
                Some((kid, CachedKey { key, algorithm }))
            })
            .collect();
        Ok(())
    }

    /// Verifies signature, `iss`, `aud`, `exp` and `nbf`, then finds the email.
    pub async fn verify(&self, token: &str) -> Result<VerifiedIdentity, OidcError> {
        let header = jsonwebtoken::decode_header(token).map_err(OidcError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(OidcError::AlgorithmRefused(header.alg));
        }
        let kid = header.kid.ok_or(OidcError::NoKeyId)?;
        let (key, userinfo) = {
            let mut cache = self.cache.lock().await;
            let never_fetched = cache.fetched_at.is_none();
            let stale = cache
                .fetched_at
                .is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
            if !cache.keys.contains_key(&kid) && (never_fetched || stale) {
                self.fetch_keys(&mut cache).await?;
            }
            let cached = cache.keys.get(&kid).ok_or(OidcError::UnknownKey)?;
            if cached.algorithm.is_some_and(|a| a != header.alg) {
                return Err(OidcError::AlgorithmRefused(header.alg));
            }
            let userinfo = cache
                .discovery
                .as_ref()
                .and_then(|d| d.userinfo_endpoint.clone());
            (cached.key.clone(), userinfo)
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data =
            jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(OidcError::Invalid)?;
        let email = match data.claims.email.filter(|e| !e.is_empty()) {
            Some(email) => email,
            None => self.userinfo_email(userinfo, token).await?,
        };
        Ok(VerifiedIdentity {
            issuer: self.issuer.clone(),
            subject: data.claims.sub,
            email,
        })
    }

    async fn userinfo_email(
        &self,
        endpoint: Option<String>,
        token: &str,
    ) -> Result<String, OidcError> {
        let endpoint = endpoint.ok_or(OidcError::NoEmail)?;
        let response = self
            .http
            .get(&endpoint)
            .bearer_auth(token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(OidcError::provider(&endpoint))?;
        let info: UserInfo = response
            .json()
            .await
            .map_err(OidcError::provider(&endpoint))?;
        info.email
            .filter(|e| !e.is_empty())
            .ok_or(OidcError::NoEmail)
    }
}
