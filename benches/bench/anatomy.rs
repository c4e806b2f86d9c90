//! Where a My Tasks request's time goes, one piece at a time on one thread (no
//! contention): the database work of the handler, query by query, against the
//! reference page's (`task::page` only), the cost of one hop to the blocking pool,
//! and rendering.

use std::time::Instant;

use diesel::prelude::*;
use taskbridge::auth::SignedIn;
use taskbridge::db::{self, DbConn};
use taskbridge::models::task::{self, Filter};
use taskbridge::models::{company_integration, connection, sync_run};

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
    let (user_id, company_id) = (me.user_id, me.company_id);
    let (today, week_end) = crate::reference::dates();
    let dates = (today.as_str(), week_end.as_str());
    let mut conn = db.conn()?;
    let conn = &mut *conn;
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
            name: "signed-in person, company and unread count",
            micros: time(conn, |c| SignedIn::load(c, user_id).map(drop))?,
        },
        Piece {
            name: "tools ON, connections, running syncs",
            micros: time(conn, |c| {
                company_integration::enabled_providers(c, company_id)?;
                connection::for_user(c, user_id)?;
                sync_run::running_for_user(c, user_id).map(drop)
            })?,
        },
        Piece {
            name: "filter values, count + page of 50",
            micros: time(conn, |c| {
                task::listing(c, user_id, &Filter::default(), dates, (0, 50)).map(drop)
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
