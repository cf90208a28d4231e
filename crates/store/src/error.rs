//! Errors of the catalog.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error(
        "catalog database: {0}; if the catalog file is damaged, `custody catalog rebuild` recreates it from the ledger"
    )]
    Db(#[from] sqlx::Error),
    #[error(
        "catalog schema migration failed: {0}; the catalog can be rebuilt from the ledger with `custody catalog rebuild`"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("catalog row {key} in {table} is unreadable: {reason}")]
    BadRow {
        table: &'static str,
        key: String,
        reason: String,
    },
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
