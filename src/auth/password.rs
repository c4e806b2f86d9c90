//! Argon2id password hashing with one of OWASP's equal-strength settings (12 MiB, 3
//! passes, 1 lane): of the five, measured side by side here (`BENCH_ONLY=hash`,
//! docs/benchmarks.md point 4), it hashes 13% faster than 19 MiB × 2 and holds 37% less
//! memory, while keeping more memory per guess than the two lighter ones. A hash keeps
//! its own parameters, so those made with 19 MiB × 2 still verify.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, Unexpected};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

static COMMON: &str = include_str!("common_passwords.txt");

fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(12 * 1024, 3, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The lowest strength (zxcvbn's score, 0 to 4) a new password may have: 3 is "safely
/// unguessable: moderate protection from an offline slow-hash scenario".
pub const MIN_SCORE: u8 = 3;

/// Whom a new password is for: what a guesser who knows them would try first.
pub struct PasswordFor<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub company: &'a str,
}

impl PasswordFor<'_> {
    /// The person's email, name and company, whole and word by word.
    fn guesses(&self) -> Vec<String> {
        let mut words = Vec::new();
        for whole in [self.email, self.name, self.company] {
            let whole = whole.trim().to_lowercase();
            words.extend(
                whole
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() > 1)
                    .map(str::to_owned),
            );
            if !whole.is_empty() {
                words.push(whole);
            }
        }
        words
    }
}

/// Checks a new password; the message says what to change.
pub fn validate(password: &str, whose: &PasswordFor<'_>) -> Result<(), String> {
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
    let email = whose.email;
    if !email.is_empty() && (lower == email || email.split('@').next() == Some(lower.as_str())) {
        return Err("Do not use your email address as your password.".into());
    }
    strong_enough(password, whose)
}

/// zxcvbn's estimate, with the person's email, name and company as words a guesser
/// tries first; below [`MIN_SCORE`], its advice says what to change.
fn strong_enough(password: &str, whose: &PasswordFor<'_>) -> Result<(), String> {
    let guesses = whose.guesses();
    let inputs: Vec<&str> = guesses.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let mut advice = vec!["That password is too easy to guess.".to_owned()];
    if let Some(feedback) = estimate.feedback() {
        advice.extend(feedback.warning().map(|w| w.to_string()));
        advice.extend(feedback.suggestions().iter().map(|s| s.to_string()));
    }
    if advice.len() == 1 {
        advice.push("Add another word or two. Uncommon words are better.".into());
    }
    Err(advice.join(" "))
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

/// Argon2 takes 12 MiB and a core for about 16 ms. Hashes run one fewer at a
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
    fn a_hash_made_with_the_earlier_parameters_still_verifies() {
        let earlier = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let stored = earlier
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let stored = hash("correct horse battery").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn length_and_common_passwords_are_refused() {
        let nobody = PasswordFor {
            email: "",
            name: "",
            company: "",
        };
        let jane = PasswordFor {
            email: "jane@acme.test",
            ..nobody
        };
        assert!(validate("short", &nobody).is_err());
        assert!(validate(&"x".repeat(129), &nobody).is_err());
        assert!(validate("password", &nobody).is_err());
        assert!(validate("Password1", &nobody).is_err());
        assert!(validate("qwertyuiop", &nobody).is_err());
        assert!(validate("jane@acme.test", &jane).is_err());
        assert!(validate("plum-kettle-orbit-42", &jane).is_ok());
    }

    #[test]
    fn weak_passwords_are_refused_with_advice() {
        let whose = PasswordFor {
            email: "olivia@quillfeather.test",
            name: "Olivia Brightwater",
            company: "Quillfeather Lanterns",
        };
        for weak in [
            "        ",
            "aaaaaaaaaaaa",
            "ghjklghjklghjkl",
            "Quillfeather Lanterns",
            "quillfeatherlanterns",
            "olivia brightwater",
            "Brightwater2026",
        ] {
            let refused = validate(weak, &whose).unwrap_err();
            assert!(
                refused.starts_with("That password is too easy to guess."),
                "{weak:?}: {refused}"
            );
        }
        let refused = validate("        ", &whose).unwrap_err();
        assert!(
            refused.len() > "That password is too easy to guess.".len() + 10,
            "{refused}"
        );
        assert!(validate("saffron-lantern-meadow-7", &whose).is_ok());
    }
}
