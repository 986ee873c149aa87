//! The session root key, and its seal when it is kept in Postgres (decision 0012).
//!
//! The key is either configured (`BISCUIT_PRIVATE_KEY`: Postgres holds nothing), or
//! generated once and stored in `server_keys` for every node, *sealed* with the
//! key-encryption key `ROOT_KEY_ENCRYPTION_KEY` (XChaCha20-Poly1305, the row's name as
//! associated data): a copy of the database (a backup, a dump, a follower, an SQL
//! injection that reads) does not give anyone the power to mint sessions.
//!
//! Start-up never makes a new key while one is stored: a missing or wrong
//! key-encryption key refuses to start (a new root key would sign everyone out). A key
//! stored in plaintext by an earlier release is sealed in place, so sessions live on.

use super::session::{SessionError, SessionKeys};
use crate::db::{self, DbError, Pool};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// How a sealed key starts, so it can never be taken for a plaintext one.
const SEALED_PREFIX: &[u8] = b"banter-sealed-v1:";
const NONCE_LEN: usize = 24;
/// The shortest secret stretched into a key-encryption key: 32 characters of a generated
/// secret carry well over 128 bits.
pub const MIN_SECRET_CHARS: usize = 32;
/// Binds stretched keys to this use.
const HKDF_SALT: &[u8] = b"banter ROOT_KEY_ENCRYPTION_KEY v1";
/// An Ed25519 private key, as stored in plaintext before sealing.
const PLAIN_LEN: usize = 32;

/// The key that seals the stored root key: 32 bytes (`ROOT_KEY_ENCRYPTION_KEY`: 64 hex
/// digits, or any secret of at least 32 characters, stretched). Its `Debug` shows nothing
/// of it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyEncryptionKey([u8; 32]);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(…)")
    }
}

impl KeyEncryptionKey {
    /// From 64 hexadecimal digits; `None` for anything else.
    pub fn from_hex(hex_key: &str) -> Option<KeyEncryptionKey> {
        let bytes = hex::decode(hex_key.trim()).ok()?;
        Some(KeyEncryptionKey(bytes.try_into().ok()?))
    }

    /// From the setting: 64 hexadecimal digits are the key itself (`openssl rand -hex
    /// 32`); any other secret of at least [`MIN_SECRET_CHARS`] characters is stretched
    /// to one with HKDF-SHA256, so whatever a platform's secret generator makes (Heroku
    /// documents only "a pseudo-random string") works. `None` for a shorter secret.
    pub fn from_setting(secret: &str) -> Option<KeyEncryptionKey> {
        let secret = secret.trim();
        if let Some(key) = Self::from_hex(secret) {
            return Some(key);
        }
        if secret.chars().count() < MIN_SECRET_CHARS {
            return None;
        }
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(HKDF_SALT), secret.as_bytes())
            .expand(b"root key encryption", &mut key)
            .ok()?;
        Some(KeyEncryptionKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// `secret` sealed under this key, bound to the row `name`.
    pub fn seal(&self, name: &str, secret: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret,
            aad: name.as_bytes(),
        };
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| RootKeyError::Seal)?;
        Ok([SEALED_PREFIX, &nonce[..], &sealed].concat())
    }

    /// The secret of a sealed row `name`; an error if this key did not seal it (or the
    /// bytes were altered).
    pub fn open(&self, name: &str, stored: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let body = stored
            .strip_prefix(SEALED_PREFIX)
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(RootKeyError::Malformed(None))?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| RootKeyError::Malformed(None))?;
        let payload = Payload {
            msg: sealed,
            aad: name.as_bytes(),
        };
        self.cipher()
            .decrypt(&nonce, payload)
            .map_err(|_| RootKeyError::WrongEncryptionKey)
    }
}

/// What is stored in `server_keys` for the root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Nothing,
    Plaintext,
    Sealed,
}

fn stored_form(bytes: Option<&[u8]>) -> Result<Stored, RootKeyError> {
    match bytes {
        None => Ok(Stored::Nothing),
        Some(b) if b.starts_with(SEALED_PREFIX) => Ok(Stored::Sealed),
        Some(b) if b.len() == PLAIN_LEN => Ok(Stored::Plaintext),
        Some(_) => Err(RootKeyError::Malformed(None)),
    }
}

/// Why there is no root key to sign sessions with; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    #[error("BISCUIT_PRIVATE_KEY is not hex")]
    ConfiguredNotHex(#[source] hex::FromHexError),
    #[error("reading the session root key from Postgres (server_keys)")]
    Storage(#[from] DbError),
    #[error(
        "ROOT_KEY_ENCRYPTION_KEY is required: BISCUIT_PRIVATE_KEY is unset, so the session \
         root key is kept in Postgres, sealed with ROOT_KEY_ENCRYPTION_KEY (64 hex digits, \
         e.g. `openssl rand -hex 32`; keep it as safe as the database password){}",
        match .0 {
            Stored::Nothing => "",
            Stored::Plaintext => "; the key stored in plaintext now is sealed at start-up and every session stays valid",
            Stored::Sealed => "; the stored key is sealed already: give the key it was sealed with",
        }
    )]
    MissingEncryptionKey(Stored),
    #[error(
        "ROOT_KEY_ENCRYPTION_KEY does not open the session root key stored in Postgres \
         (server_keys): it is not the key it was sealed with. Set that one. (Deleting the \
         row instead makes a new root key, which signs everyone out.)"
    )]
    WrongEncryptionKey,
    #[error("sealing the session root key failed")]
    Seal,
    #[error("the session root key is malformed")]
    Malformed(#[source] Option<SessionError>),
}

/// The session keys: `configured` (hex) if given, else the key stored in Postgres,
/// opened with `kek` (generated and stored sealed on the very first start; a plaintext
/// one is sealed in place).
pub async fn load(
    pool: &Pool,
    configured: Option<&str>,
    kek: Option<&KeyEncryptionKey>,
) -> Result<SessionKeys, RootKeyError> {
    let secret = match configured {
        Some(hex_key) => hex::decode(hex_key).map_err(RootKeyError::ConfiguredNotHex)?,
        None => stored(pool, kek).await?,
    };
    SessionKeys::from_private_bytes(&secret).map_err(|e| RootKeyError::Malformed(Some(e)))
}

async fn stored(pool: &Pool, kek: Option<&KeyEncryptionKey>) -> Result<Vec<u8>, RootKeyError> {
    let name = db::keys::ROOT_KEY_NAME;
    let current = db::keys::root_key(pool).await?;
    let form = stored_form(current.as_deref())?;
    let Some(kek) = kek else {
        return Err(RootKeyError::MissingEncryptionKey(form));
    };
    let bytes = match current {
        Some(bytes) => bytes,
        None => {
            let candidate = kek.seal(name, &SessionKeys::generate_private_bytes())?;
            db::keys::root_key_or_store(pool, &candidate).await?
        }
    };
    match stored_form(Some(&bytes))? {
        Stored::Sealed => kek.open(name, &bytes),
        Stored::Plaintext => {
            let sealed = kek.seal(name, &bytes)?;
            if db::keys::replace_root_key(pool, &bytes, &sealed).await? {
                log::info!(
                    "sealed the session root key stored in Postgres with ROOT_KEY_ENCRYPTION_KEY"
                );
            }
            Ok(bytes)
        }
        Stored::Nothing => Err(RootKeyError::Malformed(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(byte: u8) -> KeyEncryptionKey {
        KeyEncryptionKey([byte; 32])
    }

    #[test]
    fn a_sealed_key_opens_with_its_key_and_its_row_only() {
        let secret = SessionKeys::generate_private_bytes();
        let sealed = kek(1).seal("biscuit_root_key", &secret).unwrap();
        assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_slice()));
        assert_eq!(stored_form(Some(&sealed)).unwrap(), Stored::Sealed);
        assert_eq!(kek(1).open("biscuit_root_key", &sealed).unwrap(), secret);
        assert!(matches!(
            kek(2).open("biscuit_root_key", &sealed),
            Err(RootKeyError::WrongEncryptionKey)
        ));
        assert!(matches!(
            kek(1).open("another_row", &sealed),
            Err(RootKeyError::WrongEncryptionKey)
        ));
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(kek(1).open("biscuit_root_key", &altered).is_err());
        // Two seals of one secret differ (a fresh nonce each).
        assert_ne!(kek(1).seal("biscuit_root_key", &secret).unwrap(), sealed);
    }

    #[test]
    fn key_encryption_keys_are_64_hex_digits_and_never_shown() {
        let hex_key = "ab".repeat(32);
        let key = KeyEncryptionKey::from_hex(&hex_key).unwrap();
        assert_eq!(format!("{key:?}"), "KeyEncryptionKey(…)");
        assert!(KeyEncryptionKey::from_hex("ab").is_none());
        assert!(KeyEncryptionKey::from_hex(&"zz".repeat(32)).is_none());
        assert!(KeyEncryptionKey::from_hex(&"ab".repeat(33)).is_none());
    }

    #[test]
    fn a_generated_secret_of_any_shape_is_stretched_into_a_key_and_a_short_one_refused() {
        // What secret generators make: base64, a passphrase, hex of another length.
        let generated = "Qm9vdHN0cmFwIHNlY3JldCBmb3IgYSBIZXJva3UgYXBw/+==";
        let key = KeyEncryptionKey::from_setting(generated).unwrap();
        assert_eq!(KeyEncryptionKey::from_setting(generated), Some(key.clone()));
        assert_ne!(
            KeyEncryptionKey::from_setting(&"a".repeat(MIN_SECRET_CHARS)),
            Some(key.clone())
        );
        assert!(KeyEncryptionKey::from_setting(&"ab".repeat(40)).is_some());
        assert!(KeyEncryptionKey::from_setting(&"a".repeat(MIN_SECRET_CHARS - 1)).is_none());
        // 64 hex digits stay the key itself, as before: stored keys still open.
        let hex_key = "cd".repeat(32);
        assert_eq!(
            KeyEncryptionKey::from_setting(&hex_key),
            KeyEncryptionKey::from_hex(&hex_key)
        );
        // A stretched key seals and opens like any other.
        let sealed = key.seal("biscuit_root_key", b"secret").unwrap();
        assert_eq!(key.open("biscuit_root_key", &sealed).unwrap(), b"secret");
    }

    #[test]
    fn stored_bytes_are_plaintext_sealed_or_refused() {
        assert_eq!(stored_form(None).unwrap(), Stored::Nothing);
        assert_eq!(stored_form(Some(&[7; 32])).unwrap(), Stored::Plaintext);
        assert!(stored_form(Some(&[7; 31])).is_err());
    }
}
