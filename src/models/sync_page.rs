//! Sync pages: what is kept of each page of a connection's tasks (its `ETag`, the
//! tool's ids on it, the cursor after it) for conditional requests.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::schema::sync_pages;

/// What the engine keeps of a page of tasks for conditional requests: the `ETag` it
/// had, the tool's ids on it and the cursor after it, since a 304 carries neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPage {
    pub etag: String,
    pub next_cursor: Option<String>,
    pub external_ids: Vec<String>,
}

/// The key a page is kept under: '' for the first page, else a digest of the cursor
/// that asks for it (cursors can be long: Pivotal Tracker's carries the project list).
pub fn page_key(cursor: Option<&str>) -> String {
    match cursor {
        None => String::new(),
        Some(c) => hex::encode(Sha256::digest(c.as_bytes())),
    }
}

/// Every page kept for a connection, by key.
pub fn known_pages(
    conn: &mut DbConn,
    connection_id: i64,
) -> QueryResult<HashMap<String, KnownPage>> {
    let rows: Vec<(String, String, Option<String>, String)> = sync_pages::table
        .filter(sync_pages::connection_id.eq(connection_id))
        .select((
            sync_pages::page_key,
            sync_pages::etag,
            sync_pages::next_cursor,
            sync_pages::external_ids,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, etag, next_cursor, ids)| {
            // A row that does not read back is as good as none: the page is asked for
            // in full and kept again.
            let external_ids = serde_json::from_str(&ids).ok()?;
            Some((
                key,
                KnownPage {
                    etag,
                    next_cursor,
                    external_ids,
                },
            ))
        })
        .collect())
}

/// How what is kept of a page changes with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMemo {
    /// Nothing to change.
    Keep,
    /// The page has a new `ETag`: keep it under this key.
    Store(String, KnownPage),
    /// The page came without an `ETag`: forget what was kept under this key.
    Forget(String),
}

pub fn store_page(conn: &mut DbConn, connection_id: i64, memo: &PageMemo) -> QueryResult<()> {
    match memo {
        PageMemo::Keep => {}
        PageMemo::Store(key, page) => {
            let ids = serde_json::to_string(&page.external_ids)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            let row = (
                sync_pages::connection_id.eq(connection_id),
                sync_pages::page_key.eq(key),
                sync_pages::etag.eq(&page.etag),
                sync_pages::next_cursor.eq(&page.next_cursor),
                sync_pages::external_ids.eq(&ids),
            );
            let update = (
                sync_pages::etag.eq(&page.etag),
                sync_pages::next_cursor.eq(&page.next_cursor),
                sync_pages::external_ids.eq(&ids),
            );
            let upsert = diesel::insert_into(sync_pages::table)
                .values(row)
                .on_conflict((sync_pages::connection_id, sync_pages::page_key))
                .do_update()
                .set(update);
            match conn {
                DbConn::Pg(c) => upsert.execute(c)?,
                DbConn::Sqlite(c) => upsert.execute(c)?,
            };
        }
        PageMemo::Forget(key) => {
            diesel::delete(
                sync_pages::table
                    .filter(sync_pages::connection_id.eq(connection_id))
                    .filter(sync_pages::page_key.eq(key)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Forgets every page kept for a connection (its account was re-linked).
pub fn forget_pages(conn: &mut DbConn, connection_id: i64) -> QueryResult<usize> {
    diesel::delete(sync_pages::table.filter(sync_pages::connection_id.eq(connection_id)))
        .execute(conn)
}

/// Forgets every page kept for the company's connections to `provider`, so their next
/// pass reads every page in full (what is kept of a page was filtered by a setting
/// that changed).
pub fn forget_pages_of_tool(
    conn: &mut DbConn,
    company_id: i64,
    provider: crate::connectors::ProviderKind,
) -> QueryResult<usize> {
    use crate::schema::connections;
    let ids = connections::table
        .filter(connections::company_id.eq(company_id))
        .filter(connections::provider.eq(provider))
        .select(connections::id);
    diesel::delete(sync_pages::table.filter(sync_pages::connection_id.eq_any(ids))).execute(conn)
}

/// Forgets the pages kept for a connection that list any of `gone` (tasks just
/// archived), and any that does not read back.
pub fn forget_listing(
    conn: &mut DbConn,
    connection_id: i64,
    gone: &HashSet<String>,
) -> QueryResult<()> {
    let kept: Vec<(String, String)> = sync_pages::table
        .filter(sync_pages::connection_id.eq(connection_id))
        .select((sync_pages::page_key, sync_pages::external_ids))
        .load(conn)?;
    let stale: Vec<String> = kept
        .into_iter()
        .filter(|(_, ids)| {
            serde_json::from_str::<Vec<String>>(ids)
                .map(|ids| ids.iter().any(|id| gone.contains(id)))
                .unwrap_or(true)
        })
        .map(|(key, _)| key)
        .collect();
    for chunk in stale.chunks(500) {
        diesel::delete(
            sync_pages::table
                .filter(sync_pages::connection_id.eq(connection_id))
                .filter(sync_pages::page_key.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(())
}
