//! Verification of the identity provider's access tokens (SPEC §3).
//!
//! Discovery (`<issuer>/.well-known/openid-configuration`) is fetched on first use and
//! cached. The JWKS is cached by `kid`; a token naming an unknown `kid` triggers one
//! refetch, at most once a minute, so a key rotation is picked up without letting junk
//! tokens hammer the provider. Only RS256 and ES256 are accepted: `alg: none` and the
//! HMAC family never reach signature checking.
//!
//! The email is the identity other people see, so it counts only when the provider vouches
//! for it: `email_verified` must be `true` (see [`EmailVerifiedPolicy`]). The email and
//! its `email_verified` are taken together, from the token when it carries both, else from
//! the userinfo endpoint.

use crate::domain::DisplayName;
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
    /// The provider does not say the person owns the email (`email_verified` is not
    /// `true`): anyone could otherwise appear to others under an address they typed.
    #[error("the identity provider has not verified this account's email address; verify it there, then sign in again")]
    EmailNotVerified,
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

    /// True when the provider answered and the answer shows `OIDC_ISSUER` is wrong (it
    /// names another issuer, has no discovery document there (404, 410), or serves
    /// something that is not one): no retry helps. Unreachable, timeouts, 5xx and other
    /// 4xx (429 while many dynos boot, a firewall's 403) are passing.
    pub fn is_misconfiguration(&self) -> bool {
        match self {
            OidcError::IssuerMismatch { .. } => true,
            OidcError::Provider { source, .. } => {
                source.is_decode()
                    || source.status().is_some_and(|s| {
                        s == reqwest::StatusCode::NOT_FOUND || s == reqwest::StatusCode::GONE
                    })
            }
            _ => false,
        }
    }

    fn provider(url: &str) -> impl FnOnce(reqwest::Error) -> OidcError + '_ {
        move |source| OidcError::Provider {
            url: url.to_owned(),
            source,
        }
    }
}

/// Whether a sign-in needs the provider's `email_verified: true` (`OIDC_EMAIL_VERIFIED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerifiedPolicy {
    /// `required` (the default): only an email the provider says is verified signs in.
    #[default]
    Required,
    /// `if-present`: for providers that never send the claim (they only issue addresses
    /// they own). An email the provider says is *not* verified is still refused.
    IfPresent,
}

/// What the provider said about the email: `email_verified` as a boolean, or the string
/// `"true"`/`"false"` some userinfo endpoints send; anything else counts as unsaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Verified {
    Yes,
    No,
    #[default]
    Unsaid,
}

impl<'de> Deserialize<'de> for Verified {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(true) => Verified::Yes,
            serde_json::Value::Bool(false) => Verified::No,
            serde_json::Value::String(s) if s == "true" => Verified::Yes,
            serde_json::Value::String(s) if s == "false" => Verified::No,
            _ => Verified::Unsaid,
        })
    }
}

impl EmailVerifiedPolicy {
    fn admits(self, verified: Verified) -> bool {
        match self {
            EmailVerifiedPolicy::Required => verified == Verified::Yes,
            EmailVerifiedPolicy::IfPresent => verified != Verified::No,
        }
    }
}

/// The person a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    /// The display name the provider suggests (`name`, else `nickname`), from the token
    /// or from userinfo when that was asked for the email.
    pub name: Option<DisplayName>,
    /// Whether userinfo was asked (so asking again for a name would tell nothing new).
    pub asked_userinfo: bool,
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
    #[serde(default)]
    email_verified: Verified,
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    nickname: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    email: Option<String>,
    #[serde(default)]
    email_verified: Verified,
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    nickname: Option<serde_json::Value>,
}

/// The display name `name` and `nickname` suggest (each counts only as a string).
fn suggested_name(
    name: Option<&serde_json::Value>,
    nickname: Option<&serde_json::Value>,
) -> Option<DisplayName> {
    DisplayName::from_claims(
        name.and_then(serde_json::Value::as_str),
        nickname.and_then(serde_json::Value::as_str),
    )
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
    email_verified: EmailVerifiedPolicy,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl OidcVerifier {
    pub fn new(issuer: String, audience: String, email_verified: EmailVerifiedPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        OidcVerifier {
            issuer,
            audience,
            email_verified,
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

    /// Fetches the provider's discovery document and keys now (at start-up), so a wrong
    /// `OIDC_ISSUER` is found before the first sign-in. `Ok(true)`: ready; `Ok(false)`:
    /// unreachable for now (sign-ins fetch them when they can); `Err`: the provider
    /// answered, and the setting is wrong ([`OidcError::is_misconfiguration`]).
    pub async fn check_provider(&self) -> Result<bool, OidcError> {
        if !self.cache.lock().await.keys.is_empty() {
            return Ok(true); // a sign-in fetched them meanwhile
        }
        // Fetched outside the lock, so sign-ins never wait behind a provider that hangs.
        let mut fresh = Cache::default();
        match self.fetch_keys(&mut fresh).await {
            Ok(()) => {
                let mut cache = self.cache.lock().await;
                if cache.keys.is_empty() {
                    *cache = fresh;
                }
                Ok(true)
            }
            Err(e) if e.is_misconfiguration() => Err(e),
            Err(e) => {
                log::debug!("identity provider not reachable: {e}");
                Ok(false)
            }
        }
    }

    /// Verifies signature, `iss`, `aud`, `exp` and `nbf`, then finds the email and checks
    /// that the provider vouches for it.
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
        let claims = data.claims;
        let in_token = claims.email.filter(|e| !e.is_empty());
        let mut name = suggested_name(claims.name.as_ref(), claims.nickname.as_ref());
        let mut asked_userinfo = false;
        let (email, verified) = match (in_token, claims.email_verified) {
            (Some(email), verified) if verified != Verified::Unsaid => (email, verified),
            // A provider that never sends the claim: no need to ask userinfo about it.
            (Some(email), verified) if self.email_verified == EmailVerifiedPolicy::IfPresent => {
                (email, verified)
            }
            // The token has no email, or does not say whether it is verified: both come
            // from userinfo, together (and its name, if the token had none).
            _ => {
                let endpoint = userinfo.ok_or(OidcError::NoEmail)?;
                let info = self.userinfo(&endpoint, token).await?;
                asked_userinfo = true;
                name = name.or_else(|| suggested_name(info.name.as_ref(), info.nickname.as_ref()));
                let email = info
                    .email
                    .filter(|e| !e.is_empty())
                    .ok_or(OidcError::NoEmail)?;
                (email, info.email_verified)
            }
        };
        if !self.email_verified.admits(verified) {
            return Err(OidcError::EmailNotVerified);
        }
        Ok(VerifiedIdentity {
            issuer: self.issuer.clone(),
            subject: claims.sub,
            email,
            name,
            asked_userinfo,
        })
    }

    /// The display name userinfo suggests for the person `token` speaks for, at a first
    /// sign-in whose token named none. Best effort: a provider that cannot say leaves
    /// the person showing their email until they choose a name.
    pub async fn userinfo_name(&self, token: &str) -> Option<DisplayName> {
        let endpoint = {
            let cache = self.cache.lock().await;
            cache.discovery.as_ref()?.userinfo_endpoint.clone()?
        };
        match self.userinfo(&endpoint, token).await {
            Ok(info) => suggested_name(info.name.as_ref(), info.nickname.as_ref()),
            Err(e) => {
                log::info!("no display name from userinfo: {}", crate::error_chain(&e));
                None
            }
        }
    }

    async fn userinfo(&self, endpoint: &str, token: &str) -> Result<UserInfo, OidcError> {
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(OidcError::provider(endpoint))?;
        response.json().await.map_err(OidcError::provider(endpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(json: &str) -> Verified {
        serde_json::from_str::<UserInfo>(json)
            .map(|i| i.email_verified)
            .unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn email_verified_is_read_as_a_boolean_or_its_string() {
        assert_eq!(verified(r#"{"email_verified": true}"#), Verified::Yes);
        assert_eq!(verified(r#"{"email_verified": "true"}"#), Verified::Yes);
        assert_eq!(verified(r#"{"email_verified": false}"#), Verified::No);
        assert_eq!(verified(r#"{"email_verified": "false"}"#), Verified::No);
        assert_eq!(verified(r#"{}"#), Verified::Unsaid);
        assert_eq!(verified(r#"{"email_verified": null}"#), Verified::Unsaid);
        assert_eq!(verified(r#"{"email_verified": 1}"#), Verified::Unsaid);
    }

    #[test]
    fn only_a_verified_email_passes_unless_the_claim_is_never_sent() {
        let required = EmailVerifiedPolicy::Required;
        let if_present = EmailVerifiedPolicy::IfPresent;
        assert!(required.admits(Verified::Yes));
        assert!(!required.admits(Verified::No) && !required.admits(Verified::Unsaid));
        assert!(if_present.admits(Verified::Yes) && if_present.admits(Verified::Unsaid));
        assert!(!if_present.admits(Verified::No));
    }
}
