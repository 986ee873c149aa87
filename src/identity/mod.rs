//! Who is speaking: provider access tokens in, Banter session tokens out.
//!
//! - [`oidc`] verifies the identity provider's JWT access tokens against its JWKS.
//! - [`root_key`] loads the session root key, sealed when it is kept in Postgres.
//! - [`session`] mints and verifies Banter's own biscuit session tokens, which any
//!   node holding the root public key can check without a database round trip.
//! - [`verifier`] checks them on a bounded pool of their own threads.

pub mod oidc;
pub mod root_key;
pub mod session;
pub mod verifier;

pub use oidc::{EmailVerifiedPolicy, OidcError, OidcVerifier, VerifiedIdentity};
pub use root_key::{KeyEncryptionKey, RootKeyError};
pub use session::{SessionClaims, SessionError, SessionKeys};
pub use verifier::{TokenVerifier, VerifyError};
