//! Sessions live in the database, so ending one (log out, a disabled person) is real:
//! a copied cookie for a deleted row is refused. Rows are keyed by a digest of the
//! cookie's key, never the key itself.
//!
//! A session nobody is signed in to (a visitor's CSRF token, a flash message) writes
//! no row: its state rides in the session key itself, which the session middleware
//! encrypts into the cookie with the app's key. So a flood of cookieless requests to
//! /login costs nothing in the database.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use diesel::prelude::*;
use rand::distributions::{Alphanumeric, DistString};

use crate::crypto::sha256_hex;
use crate::db::{self, now, Pool};
use crate::error::AppError;
use crate::schema::sessions;

/// The session key under which the signed-in person's id is kept.
pub const USER_ID: &str = "user_id";

#[derive(Clone)]
pub struct DbSessionStore {
    pool: Pool,
}

impl DbSessionStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

fn user_of(state: &HashMap<String, String>) -> Option<i64> {
    state
        .get(USER_ID)
        .and_then(|v| serde_json::from_str::<i64>(v).ok())
}

fn new_key() -> Result<SessionKey, anyhow::Error> {
    let raw = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 64);
    SessionKey::try_from(raw).map_err(|e| anyhow::anyhow!("session key: {e}"))
}

/// Keys of visitors' sessions: this prefix, then the state as url-safe base64 JSON.
const VISITOR_PREFIX: &str = "visitor.";
/// A visitor's state larger than this goes to the database after all.
const VISITOR_MAX_BYTES: usize = 1024;

fn visitor_key(state: &HashMap<String, String>) -> Option<SessionKey> {
    use base64::Engine;
    if user_of(state).is_some() || state.contains_key(USER_ID) {
        return None;
    }
    let json = serde_json::to_vec(state).ok()?;
    if json.len() > VISITOR_MAX_BYTES {
        return None;
    }
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    SessionKey::try_from(format!("{VISITOR_PREFIX}{encoded}")).ok()
}

fn visitor_state(key: &SessionKey) -> Option<Option<HashMap<String, String>>> {
    use base64::Engine;
    let encoded = key.as_ref().strip_prefix(VISITOR_PREFIX)?;
    let state = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|json| serde_json::from_slice::<HashMap<String, String>>(&json).ok())
        // Never a signed-in state, whatever the key says.
        .filter(|state| !state.contains_key(USER_ID));
    Some(state)
}

fn any_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        if let Some(state) = visitor_state(key) {
            return Ok(state);
        }
        let id = sha256_hex(key.as_ref());
        let row: Option<String> = db::run(&self.pool, move |conn| {
            Ok(sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::expires_at.gt(now()))
                .select(sessions::state)
                .first::<String>(conn)
                .optional()?)
        })
        .await
        .map_err(|e| LoadError::Other(any_err(e)))?;
        match row {
            // A row that cannot be read is treated as no session at all.
            Some(state) => Ok(serde_json::from_str(&state).ok()),
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        if let Some(key) = visitor_key(&state) {
            return Ok(key);
        }
        let key = new_key().map_err(SaveError::Other)?;
        let id = sha256_hex(key.as_ref());
        let user_id = user_of(&state);
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let expires = now() + ttl.whole_seconds();
        db::run(&self.pool, move |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(id),
                    sessions::user_id.eq(user_id),
                    sessions::state.eq(body),
                    sessions::created_at.eq(now()),
                    sessions::expires_at.eq(expires),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .map_err(|e| SaveError::Other(any_err(e)))?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if visitor_state(&key).is_some() {
            // A visitor's key is its state: a changed state is a new key (and a row,
            // once someone is signed in to it).
            return self
                .save(state, ttl)
                .await
                .map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())));
        }
        let id = sha256_hex(key.as_ref());
        let user_id = user_of(&state);
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let expires = now() + ttl.whole_seconds();
        let updated = db::run(&self.pool, move |conn| {
            Ok(diesel::update(sessions::table.filter(sessions::id.eq(id)))
                .set((
                    sessions::user_id.eq(user_id),
                    sessions::state.eq(body),
                    sessions::expires_at.eq(expires),
                ))
                .execute(conn)?)
        })
        .await
        .map_err(|e| UpdateError::Other(any_err(e)))?;
        if updated == 0 {
            // The session was ended meanwhile (log out elsewhere): never resurrect it.
            return self
                .save(state_without_user(), ttl)
                .await
                .map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())));
        }
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        if visitor_state(key).is_some() {
            return Ok(());
        }
        let id = sha256_hex(key.as_ref());
        let expires = now() + ttl.whole_seconds();
        // Sliding expiry, written at most once a minute per session.
        db::run(&self.pool, move |conn| {
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id))
                    .filter(sessions::expires_at.lt(expires - 60)),
            )
            .set(sessions::expires_at.eq(expires))
            .execute(conn)?;
            Ok(())
        })
        .await
        .map_err(any_err)
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        if visitor_state(key).is_some() {
            return Ok(());
        }
        let id = sha256_hex(key.as_ref());
        db::run(&self.pool, move |conn| {
            diesel::delete(sessions::table.filter(sessions::id.eq(id))).execute(conn)?;
            Ok(())
        })
        .await
        .map_err(any_err)
    }
}

fn state_without_user() -> HashMap<String, String> {
    HashMap::new()
}

/// Ends every session a person has, everywhere.
pub fn end_all_for_user(conn: &mut db::DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Ends every session of a login, in whichever of its companies each one is.
pub fn end_all_for_login(conn: &mut db::DbConn, login_id: i64) -> QueryResult<usize> {
    use crate::schema::users;
    let memberships = users::table
        .filter(users::login_id.eq(login_id))
        .select(users::id.nullable());
    diesel::delete(sessions::table.filter(sessions::user_id.eq_any(memberships))).execute(conn)
}

/// Removes sessions past their expiry.
pub fn purge_expired(conn: &mut db::DbConn) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(conn)
}
