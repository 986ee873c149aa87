//! Banter session tokens: biscuits signed by the root key, holding the user and an expiry.
//! The user is their id and email; their display name, which they may change while a
//! token lives, is read from Postgres when a connect announces them.

use crate::domain::{User, UserId};
use biscuit_auth::macros::{authorizer, biscuit, rule};
use biscuit_auth::{Algorithm, KeyPair, PrivateKey, UnverifiedBiscuit};
use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bounds on evaluating a token's Datalog. Only tokens of the authority block alone are
/// evaluated (see [`SessionKeys::verify`]): our own three facts and one check, done in
/// one or two iterations and microseconds. The fact and iteration bounds are tight all
/// the same. The time bound is wall-clock time, so it measures how busy the machine is
/// as much as the token: 1 ms (the default), then 100 ms, refused valid tokens on a
/// loaded node (a verifying thread descheduled mid-run), which signed people out. Only
/// a token whose signature verified gets here, so its Datalog is ours: 5 s is safe.
const LIMITS: biscuit_auth::AuthorizerLimits = biscuit_auth::AuthorizerLimits {
    max_facts: 32,
    max_iterations: 8,
    max_time: Duration::from_secs(5),
};

/// Longest token accepted, in characters: ours are about 300. Longer ones are refused
/// before any decoding.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// Why a session token was refused. Clients only ever hear "unauthorized".
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("malformed root key")]
    Key(#[source] biscuit_auth::error::Format),
    #[error("session token is not valid")]
    Invalid(#[source] biscuit_auth::error::Token),
    #[error("session token carries no usable user")]
    NoUser,
    #[error("session token is {0} characters; the limit is {MAX_TOKEN_CHARS}")]
    TooLong(usize),
    /// Blocks appended to one of our tokens: we mint the authority block only, and
    /// appended blocks are Datalog anyone could write (and make expensive).
    #[error("session token has {0} blocks; ours have one")]
    ExtraBlocks(usize),
    #[error("session token's signature does not verify")]
    Signature(#[source] biscuit_auth::error::Format),
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
    ///
    /// A token with any block besides the authority block is refused before its
    /// signatures are checked or any Datalog runs: an appended block could hold a rule
    /// whose evaluation costs the fourth power of its facts, and biscuit checks its time
    /// bound only between iterations. What remains takes tens of microseconds (see the
    /// tests); the server runs it on [`super::TokenVerifier`]'s bounded pool.
    pub fn verify(&self, token: &str) -> Result<SessionClaims, SessionError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_CHARS {
            return Err(SessionError::TooLong(token.len()));
        }
        let unverified = UnverifiedBiscuit::from_base64(token).map_err(SessionError::Invalid)?;
        let blocks = unverified.block_count();
        if blocks != 1 {
            return Err(SessionError::ExtraBlocks(blocks));
        }
        let biscuit = unverified
            .verify(self.root.public())
            .map_err(SessionError::Signature)?;
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
                name: None,
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
            name: None,
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

    /// `token` with a block appended that costs `facts`⁴ to evaluate.
    fn with_expensive_block(token: &str, facts: usize) -> String {
        let mut code: String = (0..facts).map(|i| format!("n({i});\n")).collect();
        code.push_str("big($a) <- n($a), n($b), n($c), n($d), $a + $b + $c + $d < 0;\n");
        let block = biscuit_auth::builder::BlockBuilder::new()
            .code(code)
            .unwrap();
        UnverifiedBiscuit::from_base64(token)
            .unwrap()
            .append(block)
            .unwrap()
            .to_base64()
            .unwrap()
    }

    #[test]
    fn a_token_with_an_appended_block_is_refused_in_microseconds() {
        let keys = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let (token, _) = keys.mint(&alice(), Duration::from_secs(60)).unwrap();
        let hostile = with_expensive_block(&token, 60);
        let harmless = UnverifiedBiscuit::from_base64(&token)
            .unwrap()
            .append(biscuit_auth::builder::BlockBuilder::new())
            .unwrap()
            .to_base64()
            .unwrap();
        for t in [&hostile, &harmless] {
            assert!(matches!(keys.verify(t), Err(SessionError::ExtraBlocks(2))));
        }
        // Measured: the refusal, and an honest token's whole check, per call.
        let rounds = 200;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            assert!(keys.verify(&hostile).is_err());
        }
        let refusal = started.elapsed() / rounds;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            keys.verify(&token).unwrap();
        }
        let honest = started.elapsed() / rounds;
        eprintln!("refusing a hostile token: {refusal:?}; verifying an honest one: {honest:?}");
        // Generous for a debug build on a shared machine; release is far below.
        assert!(refusal < Duration::from_millis(5), "{refusal:?}");
        assert!(honest < Duration::from_millis(20), "{honest:?}");
    }

    #[test]
    fn an_over_long_token_is_refused_before_decoding() {
        let keys = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let long = "A".repeat(MAX_TOKEN_CHARS + 1);
        assert!(matches!(keys.verify(&long), Err(SessionError::TooLong(_))));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap();
        let (token, _) = keys.mint(&alice(), Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(matches!(keys.verify(&token), Err(SessionError::Invalid(_))));
    }
}
