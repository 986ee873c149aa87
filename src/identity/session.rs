//! Banter session tokens: biscuits signed by the root key, holding the user and an expiry.

use crate::domain::{User, UserId};
use biscuit_auth::macros::{authorizer, biscuit, rule};
use biscuit_auth::{Algorithm, Biscuit, KeyPair, PrivateKey};
use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bounds on evaluating a token's Datalog. The default time bound (1 ms) is shorter than
/// a busy node can promise, which refused valid tokens under load; ours are tiny, so the
/// fact and iteration bounds stay as they are.
const LIMITS: biscuit_auth::AuthorizerLimits = biscuit_auth::AuthorizerLimits {
    max_facts: 1000,
    max_iterations: 100,
    max_time: Duration::from_millis(250),
};

/// Why a session token was refused. Clients only ever hear "unauthorized".
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("malformed root key")]
    Key(#[source] biscuit_auth::error::Format),
    #[error("session token is not valid")]
    Invalid(#[source] biscuit_auth::error::Token),
    #[error("session token carries no usable user")]
    NoUser,
}

/// What a verified session token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// The root key pair: signs new tokens, verifies presented ones.
pub struct SessionKeys {
    root: KeyPair,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys").finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// From the 32 raw bytes of an Ed25519 private key.
    pub fn from_private_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        let private =
            PrivateKey::from_bytes(bytes, Algorithm::Ed25519).map_err(SessionError::Key)?;
        Ok(SessionKeys {
            root: KeyPair::from(&private),
        })
    }

    /// A fresh random key (the first start of a cluster with no configured key).
    pub fn generate_private_bytes() -> Vec<u8> {
        KeyPair::new().private().to_bytes().to_vec()
    }

    /// Mints a token for `user` valid for `ttl`.
    pub fn mint(
        &self,
        user: &User,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>), SessionError> {
        // Biscuit dates have whole seconds: round up, so a token lives at least `ttl`.
        let wanted = SystemTime::now() + ttl;
        let since_epoch = wanted.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
        let expires = UNIX_EPOCH + Duration::from_secs(secs);
        let expires_at: DateTime<Utc> = expires.into();
        let token = biscuit!(
            r#"user({id}, {email}); expires({exp}); check if time($t), $t < {exp};"#,
            id = user.id.to_string(),
            email = user.email.clone(),
            exp = expires,
        )
        .build(&self.root)
        .and_then(|b| b.to_base64())
        .map_err(SessionError::Invalid)?;
        Ok((token, expires_at))
    }

    /// Checks the signature with the root public key and the expiry against now.
    pub fn verify(&self, token: &str) -> Result<SessionClaims, SessionError> {
        let biscuit = Biscuit::from_base64(token.trim(), self.root.public())
            .map_err(SessionError::Invalid)?;
        let mut authorizer = authorizer!(
            r#"time({now}); allow if user($u, $e);"#,
            now = SystemTime::now()
        )
        .set_limits(LIMITS)
        .build(&biscuit)
        .map_err(SessionError::Invalid)?;
        authorizer.authorize().map_err(SessionError::Invalid)?;
        let users: Vec<(String, String)> = authorizer
            .query(rule!("u($id, $email) <- user($id, $email)"))
            .map_err(SessionError::Invalid)?;
        let expiries: Vec<(SystemTime,)> = authorizer
            .query(rule!("x($t) <- expires($t)"))
            .map_err(SessionError::Invalid)?;
        let ([(id, email)], [(expires,)]) = (users.as_slice(), expiries.as_slice()) else {
            return Err(SessionError::NoUser);
        };
        let id = UserId::parse(id).ok_or(SessionError::NoUser)?;
        Ok(SessionClaims {
            user: User {
                id,
                email: email.clone(),
            },
            expires_at: (*expires).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> User {
        User {
            id: UserId::new(),
            email: "alice@example.com".into(),
        }
    }

    #[test]
    fn a_minted_token_verifies_with_the_same_root_key() {
        let keys = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let user = alice();
        let (token, expires_at) = keys.mint(&user, Duration::from_secs(60)).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.user, user);
        assert_eq!(claims.expires_at, expires_at);
    }

    #[test]
    fn a_token_from_another_root_key_is_refused() {
        let ours = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let theirs =
            SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let (token, _) = theirs.mint(&alice(), Duration::from_secs(60)).unwrap();
        assert!(ours.verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let (token, _) = keys.mint(&alice(), Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(matches!(keys.verify(&token), Err(SessionError::Invalid(_))));
    }
}
