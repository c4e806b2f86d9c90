//! Macros used across the crate, in scope everywhere below `lib.rs`'s `mod macros`.

/// Stores a type as text on both backends, through its `as_text(self) -> &'static str`
/// and `from_text(&str) -> Option<Self>`; the type derives `AsExpression` and
/// `FromSqlRow` with `#[diesel(sql_type = Text)]`. A value that does not read back is
/// a deserialization error naming the type.
macro_rules! text_column {
    ($ty:ty) => {
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_text().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                Self::from_text(&text)
                    .ok_or_else(|| format!("not a {}: {text:?}", stringify!($ty)).into())
            }
        }
    };
}

/// Runs a statement on the backend's own connection (`|c| query.load(c)`), past
/// diesel's `MultiConnection`, whose wrapper writes out the statement's whole SQL text
/// on every run just to collect its binds (about 6% of a My Tasks view on SQLite in a
/// profile), the prepared statement notwithstanding. The body is compiled once for
/// each backend; for the statements every signed-in page makes.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
