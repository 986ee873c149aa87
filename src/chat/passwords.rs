//! Room passwords, hashed and checked with argon2id on a bounded pool: each hash holds
//! 19 MiB for ~50 ms of a core, so without a bound a burst of password rooms (or of
//! join attempts) could take all the memory a small dyno has. [`RUNNING`] threads of
//! their own do the hashing and at most [`WAITING`] more jobs wait their turn; beyond
//! that the request is refused at once with `rate_limited`, and no answer is awaited
//! past [`MAX_WAIT`].
//!
//! Own threads, each with argon2's working memory allocated once and reused by every
//! hash it computes: allocated per hash (argon2's default), the allocator's arenas kept
//! and fragmented the freed 19 MiB blocks, and a burst left ~150 MiB resident even on
//! two threads (hundreds on tokio's blocking pool). Now the pool holds 2 × 19 MiB, ever.

use super::{ChatError, Internal, PasswordHashError};
use crate::bounded_pool::{BoundedPool, Refused};
use crate::domain::RoomPassword;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::time::Duration;

/// Threads that hash (and so hashes computed at once), node-wide.
pub const RUNNING: usize = 2;
/// Jobs allowed to wait for a hashing thread.
pub const WAITING: usize = 8;
/// The longest a request waits for its hash before it is refused.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// argon2id cost: 19 MiB, 2 passes, 1 lane (OWASP's minimum for argon2id, and the argon2
/// crate's default), so `RUNNING` hashes peak at 38 MiB on a 512 MB dyno.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// The bounded pool; cheap to clone (every clone shares the threads and the queue).
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    pool: BoundedPool,
}

impl PasswordHashing {
    /// Starts the `RUNNING` hashing threads.
    pub fn start() -> Self {
        PasswordHashing {
            pool: BoundedPool::start("argon2", RUNNING, WAITING, MAX_WAIT),
        }
    }
}

/// The cost every new hash is made with.
fn params() -> Params {
    Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default()
}

/// The most memory a stored hash may ask for when it is checked (a hash made with a
/// larger cost is not ours: it never matches).
const MAX_BLOCKS: usize = MEMORY_KIB as usize;

thread_local! {
    /// This hashing thread's argon2 working memory, allocated by its first hash and
    /// reused by every later one.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `blocks` blocks of this thread's working memory.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        f(&mut memory[..blocks])
    })
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_with_memory(password: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())?;
    let params = params();
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (anything malformed never does).
fn verify_with_memory(password: &[u8], stored: &str) -> bool {
    let check = || -> Result<bool, argon2::password_hash::Error> {
        let parsed = PasswordHash::new(stored)?;
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        if params.block_count() > MAX_BLOCKS {
            return Ok(false);
        }
        let mut salt_buffer = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        with_memory(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
        })?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(&out)? == expected)
    };
    check().unwrap_or(false)
}

impl PasswordHashing {
    /// Queues `work` for a hashing thread and waits for its answer; refuses at once when
    /// the queue is full, and after `MAX_WAIT` without an answer.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ChatError> {
        self.pool.run(work).await.map_err(|refused| match refused {
            Refused::Busy(_) => ChatError::PasswordHashingBusy,
            Refused::Stopped(_) => Internal::HashingStopped.into(),
        })
    }

    /// Hashes a room password with argon2id and a random salt.
    pub async fn hash(&self, password: RoomPassword) -> Result<String, ChatError> {
        let hashed = self
            .run(move || hash_with_memory(password.expose().as_bytes()))
            .await?;
        hashed.map_err(|e| Internal::Hashing(PasswordHashError(e)).into())
    }

    /// Whether `password` matches the stored hash (a malformed hash never matches). The
    /// cost is the one stored in the hash, whatever it was made with.
    pub async fn verify(&self, password: RoomPassword, hash: String) -> Result<bool, ChatError> {
        self.run(move || verify_with_memory(password.expose().as_bytes(), &hash))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_are_standard_argon2id_strings_that_verify_both_ways() {
        let ours = hash_with_memory(b"s3cret").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(verify_with_memory(b"s3cret", &ours));
        assert!(!verify_with_memory(b"wrong", &ours));
        // The argon2 crate's own verifier agrees, and ours checks its hashes (rooms
        // created before the pool kept their hashes).
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"s3cret", &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with_memory(b"pw", &theirs));
        assert!(!verify_with_memory(b"pw", "not a hash"));
    }
}
