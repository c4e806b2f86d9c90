//! Sessions live in the database, so ending one (log out, a disabled person) is real:
//! a copied cookie for a deleted row is refused. Rows are keyed by a digest of the
//! session's id, never the id itself.
//!
//! A session nobody is signed in to (a visitor's CSRF token, a flash message) writes
//! no row: its state rides in the session key itself, which the session middleware
//! encrypts into the cookie with the app's key. So a flood of cookieless requests to
//! /login costs nothing in the database.
//!
//! A signed-in session's state rides in its key too, beside a stable session id
//! ([`SIGNED_PREFIX`]), so that loading it touches no database: a signed-in page makes
//! one trip to the blocking pool, not two. The row stays the authority: the page's
//! own statement checks it ([`crate::auth::SignedIn::load`]: the row exists, has not
//! expired and names the person the state names, its times are the ones that count),
//! and every write (log in, log out, switch company, activity, a flash) goes through
//! it. Log out, "log out everywhere" and disabling delete rows, so an old or copied
//! cookie is refused at its next request on any instance. A state too large for a
//! cookie lives in the row alone, as every session did before, under a key that is the
//! bare session id.

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
/// Put into a signed-in session's state as it is loaded, never stored: the digest that
/// keys the session's row, for the page's statement to check the row by.
pub const SESSION_ROW: &str = "session_row";

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

/// A new session id: 64 random letters and digits.
fn new_id() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 64)
}

fn any_key(raw: String) -> Result<SessionKey, anyhow::Error> {
    SessionKey::try_from(raw).map_err(|e| anyhow::anyhow!("session key: {e}"))
}

/// Keys of visitors' sessions: this prefix, then the state as url-safe base64 JSON.
const VISITOR_PREFIX: &str = "visitor.";
/// A visitor's state larger than this goes to the database after all.
const VISITOR_MAX_BYTES: usize = 1024;
/// Keys of signed-in sessions that carry their state: this prefix, the session id, a
/// dot, then the state as url-safe base64 JSON.
const SIGNED_PREFIX: &str = "s.";
/// A signed-in state larger than this lives in the row alone (the cookie stays under
/// about 2 KB: base64 twice and the encryption's nonce and tag).
const SIGNED_MAX_BYTES: usize = 1024;

fn encoded(state: &HashMap<String, String>, max: usize) -> Option<String> {
    use base64::Engine;
    let json = serde_json::to_vec(state).ok()?;
    (json.len() <= max).then(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

fn decoded(encoded: &str) -> Option<HashMap<String, String>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|json| serde_json::from_slice::<HashMap<String, String>>(&json).ok())
}

fn visitor_key(state: &HashMap<String, String>) -> Option<SessionKey> {
    if user_of(state).is_some() || state.contains_key(USER_ID) {
        return None;
    }
    let encoded = encoded(state, VISITOR_MAX_BYTES)?;
    SessionKey::try_from(format!("{VISITOR_PREFIX}{encoded}")).ok()
}

fn visitor_state(key: &SessionKey) -> Option<Option<HashMap<String, String>>> {
    let encoded = key.as_ref().strip_prefix(VISITOR_PREFIX)?;
    let state = decoded(encoded)
        // Never a signed-in state, whatever the key says.
        .filter(|state| !state.contains_key(USER_ID) && !state.contains_key(SESSION_ROW));
    Some(state)
}

/// What a key that is not a visitor's says: the session's id, and the state it
/// carries (with the person it names) when it carries one.
struct Signed<'k> {
    id: &'k str,
    carried: Option<(i64, HashMap<String, String>)>,
}

impl<'k> Signed<'k> {
    fn of(key: &'k SessionKey) -> Option<Self> {
        let key = key.as_ref();
        match key.strip_prefix(SIGNED_PREFIX) {
            None => Some(Self {
                id: key,
                carried: None,
            }),
            Some(rest) => {
                let (id, encoded) = rest.split_once('.')?;
                let state = decoded(encoded)?;
                let user = user_of(&state)?;
                Some(Self {
                    id,
                    carried: Some((user, state)),
                })
            }
        }
    }

    fn row(&self) -> String {
        sha256_hex(self.id)
    }
}

/// The key for a signed-in state under session id `id`: the state in the key when it
/// is small enough, else the bare id (the state is in the row).
fn signed_key(id: &str, state: &HashMap<String, String>) -> Result<SessionKey, anyhow::Error> {
    match encoded(state, SIGNED_MAX_BYTES) {
        Some(encoded) => any_key(format!("{SIGNED_PREFIX}{id}.{encoded}")),
        None => any_key(id.to_owned()),
    }
}

fn any_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

/// The state as it is stored: without what loading adds.
fn stored(mut state: HashMap<String, String>) -> HashMap<String, String> {
    state.remove(SESSION_ROW);
    state
}

fn with_row(mut state: HashMap<String, String>, row: String) -> HashMap<String, String> {
    if let Ok(json) = serde_json::to_string(&row) {
        state.insert(SESSION_ROW.to_owned(), json);
    }
    state
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        if let Some(state) = visitor_state(key) {
            return Ok(state);
        }
        let Some(signed) = Signed::of(key) else {
            return Ok(None);
        };
        let id = signed.row();
        if let Some((_, state)) = signed.carried {
            // No database here: the page's own statement checks the row.
            return Ok(Some(with_row(state, id)));
        }
        let row_id = id.clone();
        let row: Option<String> = db::run(&self.pool, move |conn| {
            Ok(sessions::table
                .filter(sessions::id.eq(row_id))
                .filter(sessions::expires_at.gt(now()))
                .select(sessions::state)
                .first::<String>(conn)
                .optional()?)
        })
        .await
        .map_err(|e| LoadError::Other(any_err(e)))?;
        // A row that cannot be read is treated as no session at all.
        Ok(row
            .and_then(|state| serde_json::from_str::<HashMap<String, String>>(&state).ok())
            .map(|state| with_row(stored(state), id)))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let state = stored(state);
        if let Some(key) = visitor_key(&state) {
            return Ok(key);
        }
        let session_id = new_id();
        let key = signed_key(&session_id, &state).map_err(SaveError::Other)?;
        let id = sha256_hex(&session_id);
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
        let state = stored(state);
        let again = |e: SaveError| UpdateError::Other(anyhow::anyhow!(e.to_string()));
        if visitor_state(&key).is_some() {
            // A visitor's key is its state: a changed state is a new key (and a row,
            // once someone is signed in to it).
            return self.save(state, ttl).await.map_err(again);
        }
        let Some(signed) = Signed::of(&key) else {
            return self.save(state, ttl).await.map_err(again);
        };
        let id = signed.row();
        // A key that carries its state names its person: only a row that still names
        // them (and has not expired) is written, so an old cookie never takes over a
        // row that went on elsewhere (another company, or ended and gone).
        let was = signed.carried.as_ref().map(|(user, _)| *user);
        let user_id = user_of(&state);
        if user_id.is_none() {
            // Signed out without a purge: the row goes, and the state with it.
            self.delete(&key).await.map_err(UpdateError::Other)?;
            return self.save(state, ttl).await.map_err(again);
        }
        let next = signed_key(signed.id, &state).map_err(UpdateError::Other)?;
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let expires = now() + ttl.whole_seconds();
        let updated = db::run(&self.pool, move |conn| {
            let row = sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::expires_at.gt(now()));
            let set = (
                sessions::user_id.eq(user_id),
                sessions::state.eq(body),
                sessions::expires_at.eq(expires),
            );
            Ok(match was {
                Some(was) => diesel::update(row.filter(sessions::user_id.eq(was)))
                    .set(set)
                    .execute(conn)?,
                None => diesel::update(row).set(set).execute(conn)?,
            })
        })
        .await
        .map_err(|e| UpdateError::Other(any_err(e)))?;
        if updated == 0 {
            // The session was ended meanwhile (log out elsewhere): never resurrect it.
            return self.save(state_without_user(), ttl).await.map_err(again);
        }
        Ok(next)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        if visitor_state(key).is_some() {
            return Ok(());
        }
        let Some(signed) = Signed::of(key) else {
            return Ok(());
        };
        let id = signed.row();
        let expires = now() + ttl.whole_seconds();
        // Sliding expiry, written at most once a minute per session.
        db::run(&self.pool, move |conn| {
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id))
                    .filter(sessions::expires_at.gt(now()))
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
        let Some(signed) = Signed::of(key) else {
            return Ok(());
        };
        let id = signed.row();
        // A key that carries its state ends the row only while it names the same
        // person: an old cookie refused after a company switch leaves the session
        // that went on alone.
        let was = signed.carried.as_ref().map(|(user, _)| *user);
        db::run(&self.pool, move |conn| {
            let row = sessions::table.filter(sessions::id.eq(id));
            match was {
                Some(was) => diesel::delete(row.filter(sessions::user_id.eq(was))).execute(conn)?,
                None => diesel::delete(row).execute(conn)?,
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_signed_in_state_rides_in_its_key_with_a_stable_id() {
        let signed = state(&[(USER_ID, "42"), ("csrf", "\"abc\"")]);
        let key = signed_key("the-id", &signed).unwrap();
        assert!(key.as_ref().starts_with("s.the-id."));
        let read = Signed::of(&key).unwrap();
        assert_eq!(read.id, "the-id");
        assert_eq!(read.row(), sha256_hex("the-id"));
        let (user, carried) = read.carried.unwrap();
        assert_eq!(user, 42);
        assert_eq!(carried, signed);
    }

    #[test]
    fn a_state_too_large_for_a_cookie_lives_in_the_row_under_the_bare_id() {
        let big = "x".repeat(SIGNED_MAX_BYTES);
        let signed = state(&[(USER_ID, "42"), ("flash", big.as_str())]);
        let key = signed_key("the-id", &signed).unwrap();
        assert_eq!(key.as_ref(), "the-id");
        let read = Signed::of(&key).unwrap();
        assert!(read.carried.is_none());
        assert_eq!(read.row(), sha256_hex("the-id"));
    }

    #[test]
    fn what_loading_adds_is_never_stored_nor_taken_from_a_visitor() {
        let loaded = with_row(state(&[("csrf", "\"abc\"")]), "row".into());
        assert!(loaded.contains_key(SESSION_ROW));
        let kept = stored(loaded.clone());
        assert!(!kept.contains_key(SESSION_ROW));
        // A visitor's key that said it had a row is no session at all.
        let forged = SessionKey::try_from(format!(
            "{VISITOR_PREFIX}{}",
            encoded(&loaded, VISITOR_MAX_BYTES).unwrap()
        ))
        .unwrap();
        assert_eq!(visitor_state(&forged), Some(None));
    }

    #[test]
    fn a_carrying_key_without_a_person_is_no_session() {
        let key = SessionKey::try_from(format!(
            "{SIGNED_PREFIX}the-id.{}",
            encoded(&state(&[("csrf", "\"abc\"")]), SIGNED_MAX_BYTES).unwrap()
        ))
        .unwrap();
        assert!(Signed::of(&key).is_none());
    }
}
