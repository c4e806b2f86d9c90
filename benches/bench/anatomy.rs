//! Where a My Tasks request's time goes, one piece at a time on one thread (no
//! contention): the database work of the handler, query by query, against the
//! reference page's (`task::page` only), the cost of one hop to the blocking pool,
//! and rendering.

use std::time::Instant;

use diesel::prelude::*;
use taskbridge::auth::SignedIn;
use taskbridge::db::{self, DbConn};
use taskbridge::models::task::{self, Filter};

use crate::seed::{Database, Person};

pub struct Piece {
    pub name: &'static str,
    pub micros: f64,
}

const ROUNDS: u32 = 400;

fn time(
    conn: &mut DbConn,
    mut f: impl FnMut(&mut DbConn) -> QueryResult<()>,
) -> anyhow::Result<f64> {
    for _ in 0..20 {
        f(conn)?;
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        f(conn)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS))
}

pub fn measure(
    rt: &tokio::runtime::Runtime,
    db: &Database,
    me: &Person,
) -> anyhow::Result<Vec<Piece>> {
    use taskbridge::schema::sessions;
    let user_id = me.user_id;
    let (today, week_end) = crate::reference::dates();
    let dates = (today.as_str(), week_end.as_str());
    let mut conn = db.conn()?;
    let conn = &mut *conn;
    let claim = crate::seed::session_claim(conn, user_id)?;
    let (pairs, _) = task::pairs(conn, user_id)?;
    let mut pieces = vec![
        Piece {
            name: "session row (SELECT by key)",
            micros: time(conn, |c| {
                sessions::table
                    .filter(
                        sessions::id
                            .eq("0000000000000000000000000000000000000000000000000000000000000000"),
                    )
                    .filter(sessions::expires_at.gt(db::now()))
                    .select(sessions::state)
                    .first::<String>(c)
                    .optional()
                    .map(drop)
            })?,
        },
        Piece {
            name: "session write-back (UPDATE, once a minute of activity)",
            micros: time(conn, |c| {
                diesel::update(
                    sessions::table
                        .filter(
                            sessions::id.eq(
                                "0000000000000000000000000000000000000000000000000000000000000000",
                            ),
                        )
                        .filter(sessions::expires_at.lt(db::now())),
                )
                .set(sessions::expires_at.eq(db::now()))
                .execute(c)
                .map(drop)
            })?,
        },
        Piece {
            name: "signed-in person, company, unread count and connection cards (one statement)",
            micros: time(conn, |c| SignedIn::load_with_cards(c, &claim).map(drop))?,
        },
        Piece {
            name: "filter values with their stamp (read when the stamp moved)",
            micros: time(conn, |c| task::pairs(c, user_id).map(drop))?,
        },
        Piece {
            name: "page of 50 (the count from the filter values)",
            micros: time(conn, |c| {
                let rows = task::rows(c, user_id, &Filter::default(), dates, (0, 50))?.into();
                task::listing(
                    c,
                    user_id,
                    (&pairs, rows),
                    &Filter::default(),
                    dates,
                    (0, 50),
                )
                .map(drop)
            })?,
        },
        Piece {
            name: "the reference's count + page of 50",
            micros: time(conn, |c| {
                task::page(c, user_id, &Filter::default(), dates, (0, 50)).map(drop)
            })?,
        },
    ];
    let pool = db.pool.clone();
    let hop = rt.block_on(async move {
        for _ in 0..20 {
            db::run(&pool, |_| Ok(())).await?;
        }
        let started = Instant::now();
        for _ in 0..ROUNDS {
            db::run(&pool, |_| Ok(())).await?;
        }
        Ok::<_, taskbridge::error::AppError>(
            started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS),
        )
    });
    pieces.push(Piece {
        name: "one hop to the blocking pool and back (db::run)",
        micros: hop.map_err(|e| anyhow::anyhow!("{e}"))?,
    });
    Ok(pieces)
}

/// Where a `GET /api/v1/tasks` request's time goes, one piece at a time on one thread:
/// the token's lookup, the handler's reads (the listing it shares with My Tasks, the
/// time on the page's tasks), and the body's encoding and `ETag`; with `token`, the
/// person's API token.
pub fn measure_api(db: &Database, me: &Person, token: &str) -> anyhow::Result<Vec<Piece>> {
    use taskbridge::api::handlers::{ApiTask, TaskPage};
    use taskbridge::models::api_token;
    use taskbridge::models::time_entry;
    use taskbridge::services::time::{times_of, Days};
    let user_id = me.user_id;
    let (today, week_end) = crate::reference::dates();
    let dates = (today.as_str(), week_end.as_str());
    let hash = taskbridge::crypto::sha256_hex(token);
    let days = Days::new("UTC", "monday");
    let mut conn = db.conn()?;
    let conn = &mut *conn;
    let (pairs, _) = task::pairs(conn, user_id)?;
    let rows = task::rows(conn, user_id, &Filter::default(), dates, (0, 50))?.into();
    let listing = task::listing(
        conn,
        user_id,
        (&pairs, rows),
        &Filter::default(),
        dates,
        (0, 50),
    )?;
    let ids: Vec<i64> = listing.rows.iter().map(|r| r.id).collect();
    let page = || TaskPage {
        next_cursor: Some("bzUw".into()),
        tasks: listing
            .rows
            .iter()
            .map(|r| ApiTask {
                id: r.id,
                title: r.title.clone(),
                tool: r.provider.clone(),
                project: r.project.clone(),
                status: r.status.clone(),
                due: r.due_on.clone(),
                url: r.url.clone(),
                seconds_today: 0,
                seconds_total: 0,
            })
            .collect(),
    };
    let encode = {
        for _ in 0..20 {
            let body = serde_json::to_vec(&page())?;
            std::hint::black_box(taskbridge::crypto::sha256_hex_bytes(&body));
        }
        let started = Instant::now();
        for _ in 0..ROUNDS {
            let body = serde_json::to_vec(&page())?;
            std::hint::black_box(taskbridge::crypto::sha256_hex_bytes(&body));
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
    };
    Ok(vec![
        Piece {
            name: "API token's person (SELECT by hash, joined)",
            micros: time(conn, |c| api_token::bearer(c, &hash).map(drop))?,
        },
        Piece {
            name: "API listing: page of 50 and whether more follow (read when the stamp moved)",
            micros: time(conn, |c| {
                task::rows(c, user_id, &Filter::default(), dates, (0, 51)).map(drop)
            })?,
        },
        Piece {
            name: "API: time on the page's 50 tasks (read when the stamp moved)",
            micros: time(conn, |c| {
                time_entry::on_tasks(c, user_id, &ids).map(|spans| drop(times_of(&spans, &days)))
            })?,
        },
        Piece {
            name: "API: the 50 tasks as JSON, and its ETag (SHA-256)",
            micros: encode,
        },
    ])
}
