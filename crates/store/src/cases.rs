//! The case tables of the catalog: case events, the cases opened, and the sealed
//! store's records and reads.
//!
//! Like every other table, these are a projection of the custody ledger ([`CaseChange`]s
//! come from ledger entries only). A case is not stored as rows per record: its events
//! are kept whole (canonical JSON) and the application rebuilds the case by replaying
//! them, so the catalog can never disagree with the case model's own rules. The sealed
//! tables hold references, digests and who read what; never a sealed payload.

use async_trait::async_trait;
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::Result;
use crate::{DumpRow, SqliteCatalog};

/// One case event: a ledger entry whose details are a case event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseEventRow {
    pub seq: u64,
    pub case_id: String,
    pub action: String,
    /// The entry's `details`, as canonical JSON (keys sorted).
    pub details: String,
}

/// A case as the catalog lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    pub id: String,
    pub title: String,
    pub opened_seq: u64,
    /// How many case events the case has.
    pub events: u64,
}

/// A sealed record: where its ciphertext is named and what it must hash to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRecordRow {
    pub reference: String,
    /// SHA-256 of the ciphertext file, 64 lowercase hex digits.
    pub ciphertext_sha256: String,
    /// Which sealing key encrypted it (a digest of the key, never the key).
    pub key_id: String,
    pub case_id: Option<String>,
    pub stored_seq: u64,
}

/// One read of a sealed record, as recorded before it was decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedReadRow {
    pub seq: u64,
    pub reference: String,
    pub actor: String,
    pub permission: String,
    pub purpose: String,
}

/// A change to the case tables, derived from one ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseChange {
    /// Any case event.
    Event(CaseEventRow),
    /// A `case.opened` event, in addition to its [`CaseChange::Event`].
    Opened { id: String, title: String, seq: u64 },
    /// A `sealed.stored` entry.
    SealedStored(SealedRecordRow),
    /// A `sealed.read` entry.
    SealedRead(SealedReadRow),
}

/// Queries over the case tables.
#[async_trait]
pub trait CaseCatalog: Send + Sync {
    /// The events of one case, oldest first.
    async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEventRow>>;
    /// Every case, by id.
    async fn cases(&self) -> Result<Vec<CaseRow>>;
    async fn sealed_record(&self, reference: &str) -> Result<Option<SealedRecordRow>>;
    /// Every sealed record, in ledger order.
    async fn sealed_records(&self) -> Result<Vec<SealedRecordRow>>;
    /// The reads of one sealed record, oldest first.
    async fn sealed_reads(&self, reference: &str) -> Result<Vec<SealedReadRow>>;
}

fn u(v: i64) -> u64 {
    v as u64
}

fn event_row(r: &SqliteRow) -> Result<CaseEventRow> {
    Ok(CaseEventRow {
        seq: u(r.try_get("seq")?),
        case_id: r.try_get("case_id")?,
        action: r.try_get("action")?,
        details: r.try_get("details")?,
    })
}

fn sealed_row(r: &SqliteRow) -> Result<SealedRecordRow> {
    Ok(SealedRecordRow {
        reference: r.try_get("ref")?,
        ciphertext_sha256: r.try_get("ciphertext_sha256")?,
        key_id: r.try_get("key_id")?,
        case_id: r.try_get("case_id")?,
        stored_seq: u(r.try_get("stored_seq")?),
    })
}

fn read_row(r: &SqliteRow) -> Result<SealedReadRow> {
    Ok(SealedReadRow {
        seq: u(r.try_get("seq")?),
        reference: r.try_get("ref")?,
        actor: r.try_get("actor")?,
        permission: r.try_get("permission")?,
        purpose: r.try_get("purpose")?,
    })
}

/// Applies one change inside the catalog's transaction.
pub(crate) async fn apply(conn: &mut SqliteConnection, change: &CaseChange) -> Result<()> {
    match change {
        CaseChange::Event(e) => {
            sqlx::query(
                "INSERT INTO case_events (seq, case_id, action, details) VALUES (?, ?, ?, ?)",
            )
            .bind(e.seq as i64)
            .bind(&e.case_id)
            .bind(&e.action)
            .bind(&e.details)
            .execute(&mut *conn)
            .await?;
        }
        CaseChange::Opened { id, title, seq } => {
            // A second opening of the same id is refused by the case model; the catalog
            // keeps the first, as a replay does, and `custody verify` reports the rest.
            sqlx::query("INSERT OR IGNORE INTO cases (id, title, opened_seq) VALUES (?, ?, ?)")
                .bind(id)
                .bind(title)
                .bind(*seq as i64)
                .execute(&mut *conn)
                .await?;
        }
        CaseChange::SealedStored(s) => {
            sqlx::query(
                "INSERT OR IGNORE INTO sealed_records (ref, ciphertext_sha256, key_id, case_id, stored_seq) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&s.reference)
            .bind(&s.ciphertext_sha256)
            .bind(&s.key_id)
            .bind(&s.case_id)
            .bind(s.stored_seq as i64)
            .execute(&mut *conn)
            .await?;
        }
        CaseChange::SealedRead(r) => {
            sqlx::query(
                "INSERT INTO sealed_reads (seq, ref, actor, permission, purpose) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(r.seq as i64)
            .bind(&r.reference)
            .bind(&r.actor)
            .bind(&r.permission)
            .bind(&r.purpose)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The rows of the case tables in canonical form, for `custody verify`.
pub(crate) async fn dump(pool: &SqlitePool) -> Result<Vec<DumpRow>> {
    let mut out = Vec::new();
    for r in sqlx::query("SELECT seq, case_id, action, details FROM case_events ORDER BY seq")
        .fetch_all(pool)
        .await?
    {
        let e = event_row(&r)?;
        out.push(DumpRow {
            table: "case_events",
            key: e.seq.to_string(),
            row: json!([e.seq, e.case_id, e.action, e.details]).to_string(),
        });
    }
    for r in sqlx::query("SELECT id, title, opened_seq FROM cases ORDER BY id")
        .fetch_all(pool)
        .await?
    {
        let id: String = r.try_get("id")?;
        let title: String = r.try_get("title")?;
        let seq: i64 = r.try_get("opened_seq")?;
        out.push(DumpRow {
            table: "cases",
            key: id.clone(),
            row: json!([id, title, seq]).to_string(),
        });
    }
    for r in sqlx::query(
        "SELECT ref, ciphertext_sha256, key_id, case_id, stored_seq FROM sealed_records ORDER BY ref",
    )
    .fetch_all(pool)
    .await?
    {
        let s = sealed_row(&r)?;
        out.push(DumpRow {
            table: "sealed_records",
            key: s.reference.clone(),
            row: json!([
                s.reference,
                s.ciphertext_sha256,
                s.key_id,
                s.case_id,
                s.stored_seq
            ])
            .to_string(),
        });
    }
    for r in
        sqlx::query("SELECT seq, ref, actor, permission, purpose FROM sealed_reads ORDER BY seq")
            .fetch_all(pool)
            .await?
    {
        let s = read_row(&r)?;
        out.push(DumpRow {
            table: "sealed_reads",
            key: s.seq.to_string(),
            row: json!([s.seq, s.reference, s.actor, s.permission, s.purpose]).to_string(),
        });
    }
    Ok(out)
}

#[async_trait]
impl CaseCatalog for SqliteCatalog {
    async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEventRow>> {
        let rows = sqlx::query(
            "SELECT seq, case_id, action, details FROM case_events WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_row).collect()
    }

    async fn cases(&self) -> Result<Vec<CaseRow>> {
        let rows = sqlx::query(
            "SELECT c.id, c.title, c.opened_seq, \
             (SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.id) AS events \
             FROM cases c ORDER BY c.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseRow {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    opened_seq: u(r.try_get("opened_seq")?),
                    events: u(r.try_get("events")?),
                })
            })
            .collect()
    }

    async fn sealed_record(&self, reference: &str) -> Result<Option<SealedRecordRow>> {
        let row = sqlx::query(
            "SELECT ref, ciphertext_sha256, key_id, case_id, stored_seq FROM sealed_records WHERE ref = ?",
        )
        .bind(reference)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(sealed_row).transpose()
    }

    async fn sealed_records(&self) -> Result<Vec<SealedRecordRow>> {
        let rows = sqlx::query(
            "SELECT ref, ciphertext_sha256, key_id, case_id, stored_seq FROM sealed_records ORDER BY stored_seq",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sealed_row).collect()
    }

    async fn sealed_reads(&self, reference: &str) -> Result<Vec<SealedReadRow>> {
        let rows = sqlx::query(
            "SELECT seq, ref, actor, permission, purpose FROM sealed_reads WHERE ref = ? ORDER BY seq",
        )
        .bind(reference)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, Change};

    fn ev(seq: u64, case: &str, action: &str) -> Change {
        Change::Case(CaseChange::Event(CaseEventRow {
            seq,
            case_id: case.into(),
            action: action.into(),
            details: format!(r#"{{"case":"{case}","type":"x","v":1}}"#),
        }))
    }

    #[tokio::test]
    async fn case_rows_are_applied_queried_and_dumped() {
        let c = SqliteCatalog::in_memory().await.unwrap();
        let changes = vec![
            ev(2, "A-1", "case.opened"),
            Change::Case(CaseChange::Opened {
                id: "A-1".into(),
                title: "First".into(),
                seq: 2,
            }),
            ev(3, "A-1", "remains.recovered"),
            ev(4, "B-2", "case.opened"),
            Change::Case(CaseChange::Opened {
                id: "B-2".into(),
                title: "Second".into(),
                seq: 4,
            }),
            Change::Case(CaseChange::SealedStored(SealedRecordRow {
                reference: "SEALED-01".into(),
                ciphertext_sha256: "ab".repeat(32),
                key_id: "k1".into(),
                case_id: Some("A-1".into()),
                stored_seq: 5,
            })),
            Change::Case(CaseChange::SealedRead(SealedReadRow {
                seq: 6,
                reference: "SEALED-01".into(),
                actor: "officer".into(),
                permission: "unseal-identity".into(),
                purpose: "court order".into(),
            })),
        ];
        c.apply(&changes, 6).await.unwrap();
        let evs = c.case_events("A-1").await.unwrap();
        assert_eq!(
            evs.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![2, 3],
            "only case A-1, in order"
        );
        let cases = c.cases().await.unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!((cases[0].id.as_str(), cases[0].events), ("A-1", 2));
        assert_eq!(cases[1].title, "Second");
        let s = c.sealed_record("SEALED-01").await.unwrap().unwrap();
        assert_eq!(s.stored_seq, 5);
        assert!(c.sealed_record("SEALED-02").await.unwrap().is_none());
        let reads = c.sealed_reads("SEALED-01").await.unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].purpose, "court order");
        let dump = c.dump().await.unwrap();
        for table in ["case_events", "cases", "sealed_records", "sealed_reads"] {
            assert!(dump.iter().any(|r| r.table == table), "{table} dumped");
        }
        // A replayed opening of the same id keeps the first title.
        c.apply(
            &[Change::Case(CaseChange::Opened {
                id: "A-1".into(),
                title: "Again".into(),
                seq: 7,
            })],
            7,
        )
        .await
        .unwrap();
        assert_eq!(c.cases().await.unwrap()[0].title, "First");
    }
}
