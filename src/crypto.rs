//! Random tokens, digests, and encryption at rest.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::SecretKey;

/// 256 random bits, URL-safe: for invite links, CSRF tokens, OAuth state.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store instead of a bearer secret (session keys, invite tokens).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

pub fn sha256_hex_bytes(value: &[u8]) -> String {
    hex::encode(Sha256::digest(value))
}

/// Constant-time comparison for secrets presented by a client.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
#[error("stored secret could not be decrypted")]
pub struct DecryptError;

/// AES-256-GCM with a fresh nonce per write. The associated data names the row the
/// ciphertext belongs to, so a ciphertext copied to another row does not decrypt.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    pub fn new(key: &SecretKey) -> Self {
        let material = key.derive("encryption-at-rest");
        let key = aes_gcm::Key::<Aes256Gcm>::from_slice(&material[..32]);
        Self {
            aead: Aes256Gcm::new(key),
        }
    }

    pub fn seal(&self, plaintext: &[u8], bound_to: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: bound_to.as_bytes(),
        };
        match self.aead.encrypt(Nonce::from_slice(&nonce), payload) {
            Ok(ct) => {
                let mut out = Vec::with_capacity(12 + ct.len());
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&ct);
                out
            }
            // AES-GCM only fails on inputs beyond 64 GiB.
            Err(_) => Vec::new(),
        }
    }

    pub fn open(&self, sealed: &[u8], bound_to: &str) -> Result<Vec<u8>, DecryptError> {
        if sealed.len() < 12 + 16 {
            return Err(DecryptError);
        }
        let (nonce, ct) = sealed.split_at(12);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| DecryptError)
    }
}

/// The key check: a known value sealed with the key when the database is set up.
const KEY_CHECK: &[u8] = b"taskbridge key check, v1";
const KEY_CHECK_BINDING: &str = "key-check";

impl Cipher {
    /// The key check, sealed with this key, to keep in the database.
    pub fn seal_key_check(&self) -> Vec<u8> {
        self.seal(KEY_CHECK, KEY_CHECK_BINDING)
    }

    /// Whether `sealed` is the key check sealed with this very key.
    pub fn opens_key_check(&self, sealed: &[u8]) -> bool {
        self.open(sealed, KEY_CHECK_BINDING)
            .is_ok_and(|value| value == KEY_CHECK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::new(&SecretKey::from_text(&"k".repeat(64)).unwrap())
    }

    #[test]
    fn sealed_secrets_open_only_for_their_row() {
        let c = cipher();
        let sealed = c.seal(b"access-token-123", "connection:7");
        assert!(!sealed.windows(16).any(|w| w == b"access-token-123"));
        assert_eq!(
            c.open(&sealed, "connection:7").unwrap(),
            b"access-token-123"
        );
        assert!(c.open(&sealed, "connection:8").is_err());
        let again = c.seal(b"access-token-123", "connection:7");
        assert_ne!(sealed, again, "a fresh nonce per write");
    }

    #[test]
    fn another_key_cannot_open() {
        let other = Cipher::new(&SecretKey::from_text(&"z".repeat(64)).unwrap());
        let sealed = cipher().seal(b"secret", "row");
        assert!(other.open(&sealed, "row").is_err());
        assert!(cipher().open(b"short", "row").is_err());
    }

    #[test]
    fn the_key_check_opens_with_its_key_only() {
        let other = Cipher::new(&SecretKey::from_text(&"z".repeat(64)).unwrap());
        let check = cipher().seal_key_check();
        assert!(cipher().opens_key_check(&check));
        assert!(!other.opens_key_check(&check));
        assert!(!cipher().opens_key_check(&cipher().seal(b"other", KEY_CHECK_BINDING)));
    }

    #[test]
    fn tokens_are_random_and_compared_in_constant_time() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
