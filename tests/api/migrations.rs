//! Migrations over rows of the old shape, on SQLite and PostgreSQL.

use diesel::prelude::*;
use taskbridge::db;
use taskbridge::domain::Role;
use taskbridge::models::{company, user};
use taskbridge::schema::{logins, sessions, time_entries, users};

use crate::helpers::TestDb;

fn run(conn: &mut db::DbConn, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap();
}

fn old_user_id(conn: &mut db::DbConn, email: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    diesel::sql_query(format!("SELECT id FROM users WHERE email = '{email}'"))
        .get_result::<Id>(conn)
        .unwrap()
        .id
}

#[test]
fn logins_take_each_persons_email_and_password_and_keep_what_is_theirs() {
    let test_db = TestDb::new();
    let pool = db::connect(&test_db.url).unwrap();
    let mut conn = pool.get().unwrap();
    db::migrate_before(&mut conn, "2026-12-03-095000").unwrap();

    // One company, before logins: Ann (confirmed), Ben (disabled, never confirmed),
    // and Cy, deleted.
    run(
        &mut conn,
        "INSERT INTO companies (name, created_at) VALUES ('Acme', 0)",
    );
    for (email, hash, disabled, verified) in [
        ("ann@acme.test", "hash-ann", "FALSE", "5"),
        ("ben@acme.test", "hash-ben", "TRUE", "NULL"),
        ("cy@acme.test", "hash-cy", "FALSE", "5"),
    ] {
        run(
            &mut conn,
            &format!(
                "INSERT INTO users (company_id, email, name, password_hash, role, disabled, created_at, email_verified_at) \
                 SELECT id, '{email}', 'Someone', '{hash}', 'user', {disabled}, 0, {verified} FROM companies"
            ),
        );
    }
    let (ann, ben, cy) = (
        old_user_id(&mut conn, "ann@acme.test"),
        old_user_id(&mut conn, "ben@acme.test"),
        old_user_id(&mut conn, "cy@acme.test"),
    );
    run(&mut conn, &format!("DELETE FROM users WHERE id = {cy}"));
    run(
        &mut conn,
        &format!(
            "INSERT INTO sessions (id, user_id, state, created_at, expires_at) VALUES ('s-ann', {ann}, '{{}}', 0, 4000000000)"
        ),
    );
    run(
        &mut conn,
        &format!(
            "INSERT INTO time_entries (company_id, user_id, note, started_at, ended_at, created_at, updated_at) \
             SELECT id, {ann}, 'Ann''s hour', 0, 3600, 0, 0 FROM companies"
        ),
    );

    db::migrate(&mut conn).unwrap();

    let found: Vec<(i64, String, String, bool)> = logins::table
        .order(logins::email)
        .select((
            logins::id,
            logins::email,
            logins::password_hash,
            logins::email_verified_at.is_not_null(),
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        found,
        vec![
            (ann, "ann@acme.test".into(), "hash-ann".into(), true),
            (ben, "ben@acme.test".into(), "hash-ben".into(), false),
        ]
    );
    let people: Vec<(i64, i64, bool)> = users::table
        .order(users::id)
        .select((users::id, users::login_id, users::disabled))
        .load(&mut conn)
        .unwrap();
    assert_eq!(people, vec![(ann, ann, false), (ben, ben, true)]);
    // Nothing of Ann's went with the old table.
    let session: Option<i64> = sessions::table
        .filter(sessions::id.eq("s-ann"))
        .select(sessions::user_id)
        .first(&mut conn)
        .unwrap();
    assert_eq!(session, Some(ann));
    let entries: i64 = time_entries::table
        .filter(time_entries::user_id.eq(ann))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(entries, 1);

    // Ann can be in a second company, once; a new person's id is not a deleted one's;
    // and the foreign keys hold again.
    let globex = company::create(&mut conn, "Globex").unwrap();
    let second = user::create(&mut conn, globex, ann, "Ann", Role::Admin).unwrap();
    assert!(second > cy);
    assert!(user::create(&mut conn, globex, ann, "Ann", Role::User).is_err());
    assert!(user::create(&mut conn, globex, 999_999, "Nobody", Role::User).is_err());
}
