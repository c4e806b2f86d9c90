//! The names and shapes `web/tasks.rs` still uses from before the models were split by
//! table and typed (that file is being changed on `main`). Remove this file once it
//! reads `connection`, `company_integration` and `sync_run` directly.

pub mod integration {
    use diesel::QueryResult;

    use crate::db::DbConn;
    use crate::models::company_integration;
    use crate::models::connection::{self, ConnectionStatus};

    pub const STATUS_NEEDS_RECONNECT: ConnectionStatus = ConnectionStatus::NeedsReconnect;

    /// A connection with its tool as the slug `web/tasks.rs` compares.
    pub struct Connection {
        pub provider: String,
        inner: connection::Connection,
    }

    impl std::ops::Deref for Connection {
        type Target = connection::Connection;

        fn deref(&self) -> &Self::Target {
            &self.inner
        }
    }

    pub fn for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Connection>> {
        Ok(connection::for_user(conn, user_id)?
            .into_iter()
            .map(|inner| Connection {
                provider: inner.provider.slug().to_owned(),
                inner,
            })
            .collect())
    }

    pub fn enabled_providers(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<String>> {
        let kinds = company_integration::enabled_providers(conn, company_id)?;
        Ok(kinds.into_iter().map(|k| k.slug().to_owned()).collect())
    }
}

pub mod sync {
    use diesel::QueryResult;

    use crate::db::DbConn;
    use crate::models::sync_run;

    pub use crate::models::connection::make_due;

    pub fn running_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(String, i64)>> {
        let running = sync_run::running_for_user(conn, user_id)?;
        Ok(running
            .into_iter()
            .map(|(kind, fetched)| (kind.slug().to_owned(), fetched))
            .collect())
    }
}
