//! Argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1 lane).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, Unexpected};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

static COMMON: &str = include_str!("common_passwords.txt");

fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password; the message says what to change.
pub fn validate(password: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!(
            "Use at least {MIN_LEN} characters for your password."
        ));
    }
    if len > MAX_LEN {
        return Err(format!(
            "Use at most {MAX_LEN} characters for your password."
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|common| common == lower) {
        return Err(
            "That password is one of the most common ones. Choose one that is harder to guess."
                .into(),
        );
    }
    if !email.is_empty() && (lower == email || email.split('@').next() == Some(lower.as_str())) {
        return Err("Do not use your email address as your password.".into());
    }
    Ok(())
}

/// Slow on purpose: call it off the async executor (`web::block`).
pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("password hashing: {e}")))
}

/// Slow on purpose: call it off the async executor (`web::block`).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Argon2 takes 19 MiB and a core for tens of milliseconds. Hashes run one fewer at a
/// time than there are cores (and at least one): a burst of sign-ins waits its turn
/// instead of taking every core, every blocking thread and a gigabyte of memory from
/// the pages being served. (With one per core, 20 sign-ins a second on two busy cores
/// doubled My Tasks' p99; with one fewer, sign-ins wait longer under such a load.)
fn hashing_gate() -> &'static tokio::sync::Semaphore {
    static GATE: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _turn = hashing_gate()
        .acquire()
        .await
        .unexpected("waiting for a turn to hash a password")?;
    actix_web::web::block(work)
        .await
        .unexpected("hashing a password off the executor")
}

/// [`hash`], off the async executor, behind the hashing gate.
pub async fn hash_off_executor(password: String) -> Result<String, AppError> {
    off_executor(move || hash(&password)).await?
}

/// [`verify`], off the async executor, behind the hashing gate.
pub async fn verify_off_executor(password: String, stored: String) -> Result<bool, AppError> {
    off_executor(move || verify(&password, &stored)).await
}

/// A hash of a random password, verified against when the account does not exist,
/// so a sign-in takes as long whether or not the email is known.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::crypto::random_token()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let stored = hash("correct horse battery").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn length_and_common_passwords_are_refused() {
        assert!(validate("short", "").is_err());
        assert!(validate(&"x".repeat(129), "").is_err());
        assert!(validate(&"x".repeat(128), "").is_ok());
        assert!(validate("password", "").is_err());
        assert!(validate("Password1", "").is_err());
        assert!(validate("qwertyuiop", "").is_err());
        assert!(validate("jane@acme.test", "jane@acme.test").is_err());
        assert!(validate("plum-kettle-orbit", "jane@acme.test").is_ok());
    }
}
