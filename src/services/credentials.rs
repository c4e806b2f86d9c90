//! Tool credentials at rest: sealed with the key, and bound to the row or the person
//! they belong to, so a copy moved anywhere else does not open.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::connectors::{Credentials, ProviderKind};
use crate::crypto::Cipher;
use crate::domain::UserId;
use crate::error::{AppError, Unexpected};

/// The credentials as stored, sealed with the row they belong to.
#[derive(Serialize, Deserialize)]
struct StoredCredentials {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    extra: serde_json::Value,
}

/// What a connection's ciphertext is bound to: a copy in another row does not decrypt.
pub fn credentials_binding(company_id: i64, user_id: i64, kind: ProviderKind) -> String {
    format!("connection/{company_id}/{user_id}/{}", kind.slug())
}

/// What a PKCE verifier kept in the session is sealed to: the person it was made for.
pub fn pkce_binding(user_id: UserId) -> String {
    format!("pkce/{}", user_id.0)
}

/// What credentials waiting for the person to choose an account are sealed to.
pub fn pending_binding(user_id: i64, kind: ProviderKind) -> String {
    format!("pending/{user_id}/{}", kind.slug())
}

pub fn seal_credentials(
    cipher: &Cipher,
    creds: &Credentials,
    bound_to: &str,
) -> Result<Vec<u8>, AppError> {
    let stored = StoredCredentials {
        access_token: creds.access_token.expose_secret().to_owned(),
        refresh_token: creds
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at: creds.expires_at,
        extra: creds.extra.clone(),
    };
    let json = serde_json::to_vec(&stored).unexpected("encoding credentials")?;
    Ok(cipher.seal(&json, bound_to))
}

pub fn open_credentials(
    cipher: &Cipher,
    sealed: &[u8],
    bound_to: &str,
) -> Result<Credentials, AppError> {
    let json = cipher
        .open(sealed, bound_to)
        .map_err(|e| anyhow::anyhow!("opening stored credentials: {e}"))?;
    let stored: StoredCredentials =
        serde_json::from_slice(&json).unexpected("decoding stored credentials")?;
    Ok(Credentials {
        access_token: SecretString::from(stored.access_token),
        refresh_token: stored.refresh_token.map(SecretString::from),
        expires_at: stored.expires_at,
        extra: stored.extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretKey;

    #[test]
    fn credentials_round_trip_only_in_their_own_row() {
        let cipher = Cipher::new(&SecretKey::from_text(&"s".repeat(40)).unwrap());
        let creds = Credentials {
            access_token: SecretString::from("at-123"),
            refresh_token: Some(SecretString::from("rt-456")),
            expires_at: Some(42),
            extra: serde_json::json!({"instance_url": "https://x.test"}),
        };
        let here = credentials_binding(1, 2, ProviderKind::Salesforce);
        let sealed = seal_credentials(&cipher, &creds, &here).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("at-123"));
        let back = open_credentials(&cipher, &sealed, &here).unwrap();
        assert_eq!(back.access_token.expose_secret(), "at-123");
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-456");
        assert_eq!(back.extra["instance_url"], "https://x.test");
        let elsewhere = credentials_binding(1, 3, ProviderKind::Salesforce);
        assert!(open_credentials(&cipher, &sealed, &elsewhere).is_err());
    }
}
