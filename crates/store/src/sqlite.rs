//! The SQLite catalog, the embedded default.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use custody_model::{Digest, FsTimes, Item, ItemId, Timestamp};
use serde_json::json;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, SqlitePool};

use crate::batch::Pending;
use crate::error::{CatalogError, Result};
use crate::{Catalog, Change, DumpRow, EventRow, ItemFilter, MetadataRow, TurnedHashes};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteCatalog {
    pool: SqlitePool,
}

pub(crate) const ITEM_COLUMNS: &str = "id, number, sha256, size, media_type, original_name, original_path, \
     fs_modified, fs_created, fs_accessed, collected_by, source, method, case_id, note, \
     ingested_at, actor, ledger_seq, duplicate_of";

impl SqliteCatalog {
    /// Opens (creating if asked) the catalog file and brings its schema up to date.
    pub async fn open(path: &Path, create: bool) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // The ledger is the durable record; a lost last catalog transaction is
            // replayed from it on the next open.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A private catalog in memory, for replaying the ledger during verification.
    pub async fn in_memory() -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

fn opt_ts(s: Option<String>, table: &'static str, key: &str) -> Result<Option<Timestamp>> {
    s.map(|s| {
        s.parse().map_err(|_| CatalogError::BadRow {
            table,
            key: key.to_owned(),
            reason: format!("bad time {s:?}"),
        })
    })
    .transpose()
}

fn item_from_row(row: &SqliteRow) -> Result<Item> {
    let id_text: String = row.try_get("id")?;
    let bad = |reason: String| CatalogError::BadRow {
        table: "items",
        key: id_text.clone(),
        reason,
    };
    let id: ItemId = id_text
        .parse()
        .map_err(|e: custody_model::ItemIdParseError| bad(e.to_string()))?;
    let sha: String = row.try_get("sha256")?;
    let dup: Option<String> = row.try_get("duplicate_of")?;
    Ok(Item {
        id,
        sha256: sha
            .parse()
            .map_err(|e: custody_model::DigestParseError| bad(e.to_string()))?,
        size: row.try_get::<i64, _>("size")? as u64,
        media_type: row.try_get("media_type")?,
        original_name: row.try_get("original_name")?,
        original_path: row.try_get("original_path")?,
        fs: FsTimes {
            modified: opt_ts(row.try_get("fs_modified")?, "items", &id_text)?,
            created: opt_ts(row.try_get("fs_created")?, "items", &id_text)?,
            accessed: opt_ts(row.try_get("fs_accessed")?, "items", &id_text)?,
        },
        collected_by: row.try_get("collected_by")?,
        source: row.try_get("source")?,
        method: row.try_get("method")?,
        case: row.try_get("case_id")?,
        note: row.try_get("note")?,
        ingested_at: opt_ts(Some(row.try_get("ingested_at")?), "items", &id_text)?
            .expect("present"),
        actor: row.try_get("actor")?,
        ledger_seq: row.try_get::<i64, _>("ledger_seq")? as u64,
        duplicate_of: dup
            .map(|d| {
                d.parse()
                    .map_err(|e: custody_model::ItemIdParseError| bad(e.to_string()))
            })
            .transpose()?,
    })
}

fn event_from_row(row: &SqliteRow) -> Result<EventRow> {
    let seq = row.try_get::<i64, _>("seq")? as u64;
    let bad = |reason: String| CatalogError::BadRow {
        table: "events",
        key: seq.to_string(),
        reason,
    };
    let item: Option<String> = row.try_get("item")?;
    let sha: Option<String> = row.try_get("sha256")?;
    Ok(EventRow {
        seq,
        time: row.try_get("time")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        item: item
            .map(|i| {
                i.parse()
                    .map_err(|e: custody_model::ItemIdParseError| bad(e.to_string()))
            })
            .transpose()?,
        sha256: sha
            .map(|s| {
                s.parse()
                    .map_err(|e: custody_model::DigestParseError| bad(e.to_string()))
            })
            .transpose()?,
    })
}

fn metadata_from_row(row: &SqliteRow) -> Result<MetadataRow> {
    let sha: String = row.try_get("sha256")?;
    Ok(MetadataRow {
        sha256: sha
            .parse()
            .map_err(|e: custody_model::DigestParseError| CatalogError::BadRow {
                table: "metadata",
                key: sha.clone(),
                reason: e.to_string(),
            })?,
        extractor: row.try_get("extractor")?,
        version: row.try_get("version")?,
        ledger_seq: row.try_get::<i64, _>("ledger_seq")? as u64,
        record: row.try_get("record")?,
        latitude: row.try_get("latitude")?,
        longitude: row.try_get("longitude")?,
    })
}

/// The `sha256` column of a row of `table`, parsed.
fn digest_column(r: &SqliteRow, table: &'static str) -> Result<Digest> {
    let sha: String = r.try_get("sha256")?;
    sha.parse()
        .map_err(|e: custody_model::DigestParseError| CatalogError::BadRow {
            table,
            key: sha.clone(),
            reason: e.to_string(),
        })
}

/// Turned hashes as stored: the seven hashes big-endian, in order.
pub(crate) fn turned_bytes(turned: &TurnedHashes) -> Vec<u8> {
    turned.iter().flat_map(|h| h.to_be_bytes()).collect()
}

/// The turned hashes of a row's `turned` column (NULL: none recorded).
fn turned_column(r: &SqliteRow, table: &'static str) -> Result<Option<TurnedHashes>> {
    let Some(bytes) = r.try_get::<Option<Vec<u8>>, _>("turned")? else {
        return Ok(None);
    };
    let bad = || CatalogError::BadRow {
        table,
        key: r.try_get::<String, _>("sha256").unwrap_or_default(),
        reason: format!("turned hashes of {} bytes, not 56", bytes.len()),
    };
    if bytes.len() != 56 {
        return Err(bad());
    }
    let mut out = [0u64; 7];
    for (h, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *h = u64::from_be_bytes(chunk.try_into().map_err(|_| bad())?);
    }
    Ok(Some(out))
}

/// The turned hashes of a row for a query: an unreadable cell counts as none recorded, so
/// that the picture is read again from its stored copy rather than the whole query
/// failing (`custody verify` reports the cell, `custody catalog rebuild` mends it).
fn turned_or_none(r: &SqliteRow, table: &'static str) -> Option<TurnedHashes> {
    turned_column(r, table).ok().flatten()
}

/// Turned hashes in a dump row: 112 hex digits, or null.
fn turned_hex(turned: Option<TurnedHashes>) -> serde_json::Value {
    turned.map_or(serde_json::Value::Null, |t| {
        t.iter()
            .map(|h| format!("{h:016x}"))
            .collect::<String>()
            .into()
    })
}

/// Replaces the keyframe hashes of some bytes and algorithm with `frames` (the latest
/// extraction's).
async fn replace_keyframes(
    conn: &mut sqlx::SqliteConnection,
    sha256: &Digest,
    algorithm: &str,
    frames: &[(u64, u64, Option<TurnedHashes>)],
    seq: u64,
) -> Result<()> {
    sqlx::query("DELETE FROM keyframe_hashes WHERE sha256 = ? AND algorithm = ?")
        .bind(sha256.to_hex())
        .bind(algorithm)
        .execute(&mut *conn)
        .await?;
    for (at_ms, hash, turned) in frames {
        // A frame time given twice keeps its last hash, as the primary key allows one.
        sqlx::query(
            "INSERT INTO keyframe_hashes (sha256, algorithm, at_ms, hash, ledger_seq, turned) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256, algorithm, at_ms) DO UPDATE SET \
             hash = excluded.hash, ledger_seq = excluded.ledger_seq, turned = excluded.turned",
        )
        .bind(sha256.to_hex())
        .bind(algorithm)
        .bind(*at_ms as i64)
        .bind(*hash as i64)
        .bind(seq as i64)
        .bind(turned.as_ref().map(turned_bytes))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn applied_seq(&self) -> Result<Option<u64>> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT applied_seq FROM catalog_state WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(v.map(|v| v as u64))
    }

    async fn apply(&self, changes: &[Change], last_seq: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut pending = Pending::default();
        for change in changes {
            match change {
                Change::Event(e) => pending.events.push(e),
                Change::InsertItem(item) => pending.items.push(item),
                Change::Metadata(m) => pending.metadata.push(m),
                Change::Phash {
                    sha256,
                    algorithm,
                    hash,
                    turned,
                    seq,
                } => pending
                    .phashes
                    .push((sha256, algorithm, *hash, *turned, *seq)),
                Change::PhashCleared { sha256, algorithm } => {
                    // Upserts still pending go first: the ledger's order stands.
                    pending.flush(&mut tx, true).await?;
                    sqlx::query("DELETE FROM phashes WHERE sha256 = ? AND algorithm = ?")
                        .bind(sha256.to_hex())
                        .bind(algorithm)
                        .execute(&mut *tx)
                        .await?;
                }
                // No other change writes this table: applied at once, in ledger order.
                Change::Keyframes {
                    sha256,
                    algorithm,
                    frames,
                    seq,
                } => replace_keyframes(&mut tx, sha256, algorithm, frames, *seq).await?,
                Change::Case(c) => crate::cases::apply(&mut tx, c).await?,
                Change::Annotate { seq, item, note } => {
                    sqlx::query("INSERT INTO annotations (seq, item, note) VALUES (?, ?, ?)")
                        .bind(*seq as i64)
                        .bind(item.to_string())
                        .bind(note)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            pending.flush(&mut tx, false).await?;
        }
        pending.flush(&mut tx, true).await?;
        sqlx::query("UPDATE catalog_state SET applied_seq = ? WHERE id = 1")
            .bind(last_seq as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn item(&self, id: ItemId) -> Result<Option<Item>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE id = ?"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    async fn items_by_sha256_prefix(&self, hex_prefix: &str) -> Result<Vec<Item>> {
        let prefix = hex_prefix.to_ascii_lowercase();
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        // Range scan on the index: every hex string with this prefix sorts in [p, p~).
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE sha256 >= ? AND sha256 < ? ORDER BY number"
        )))
        .bind(&prefix)
        .bind(format!("{prefix}~"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn items(&self, filter: &ItemFilter) -> Result<Vec<Item>> {
        let mut sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE 1 = 1");
        if filter.case.is_some() {
            sql.push_str(" AND case_id = ?");
        }
        if filter.sha256.is_some() {
            sql.push_str(" AND sha256 = ?");
        }
        sql.push_str(" ORDER BY number");
        if filter.limit.is_some() {
            sql.push_str(" LIMIT ?");
        }
        // Only fixed fragments are concatenated; every value is bound.
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(c) = &filter.case {
            q = q.bind(c);
        }
        if let Some(d) = &filter.sha256 {
            q = q.bind(d.to_hex());
        }
        if let Some(l) = filter.limit {
            q = q.bind(l as i64);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn max_item_number(&self) -> Result<u64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(number) FROM items")
            .fetch_one(&self.pool)
            .await?;
        Ok(v.unwrap_or(0) as u64)
    }

    async fn history(&self, item: ItemId, sha256: &Digest) -> Result<Vec<EventRow>> {
        // Entries about this item, plus item-less entries about its bytes.
        let rows = sqlx::query(
            "SELECT seq, time, actor, action, item, sha256 FROM events \
             WHERE item = ? OR (item IS NULL AND sha256 = ?) ORDER BY seq",
        )
        .bind(item.to_string())
        .bind(sha256.to_hex())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn metadata(&self, sha256: &Digest, extractor: &str) -> Result<Option<MetadataRow>> {
        let row = sqlx::query(
            "SELECT sha256, extractor, version, ledger_seq, record, latitude, longitude FROM metadata \
             WHERE sha256 = ? AND extractor = ? ORDER BY ledger_seq DESC LIMIT 1",
        )
        .bind(sha256.to_hex())
        .bind(extractor)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(metadata_from_row).transpose()
    }

    async fn has_metadata(&self, sha256: &Digest, extractor: &str, version: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM metadata WHERE sha256 = ? AND extractor = ? AND version = ?",
        )
        .bind(sha256.to_hex())
        .bind(extractor)
        .bind(version)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn phashes(
        &self,
        algorithm: &str,
        turned: bool,
    ) -> Result<Vec<(Digest, u64, Option<TurnedHashes>)>> {
        let rows = sqlx::query(if turned {
            "SELECT sha256, hash, turned FROM phashes WHERE algorithm = ? ORDER BY sha256"
        } else {
            "SELECT sha256, hash, NULL AS turned FROM phashes WHERE algorithm = ? ORDER BY sha256"
        })
        .bind(algorithm)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d = digest_column(r, "phashes")?;
                Ok((
                    d,
                    r.try_get::<i64, _>("hash")? as u64,
                    turned_or_none(r, "phashes"),
                ))
            })
            .collect()
    }

    async fn keyframe_hashes(
        &self,
        algorithm: &str,
        turned: bool,
    ) -> Result<Vec<(Digest, u64, u64, Option<TurnedHashes>)>> {
        let rows = sqlx::query(if turned {
            "SELECT sha256, at_ms, hash, turned FROM keyframe_hashes WHERE algorithm = ? \
             ORDER BY sha256, at_ms"
        } else {
            "SELECT sha256, at_ms, hash, NULL AS turned FROM keyframe_hashes \
             WHERE algorithm = ? ORDER BY sha256, at_ms"
        })
        .bind(algorithm)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d = digest_column(r, "keyframe_hashes")?;
                Ok((
                    d,
                    r.try_get::<i64, _>("at_ms")? as u64,
                    r.try_get::<i64, _>("hash")? as u64,
                    turned_or_none(r, "keyframe_hashes"),
                ))
            })
            .collect()
    }

    async fn events_by_action(&self, action: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT seq, time, actor, action, item, sha256 FROM events WHERE action = ? ORDER BY seq",
        )
        .bind(action)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn annotations(&self, item: ItemId) -> Result<Vec<(u64, String)>> {
        let rows = sqlx::query("SELECT seq, note FROM annotations WHERE item = ? ORDER BY seq")
            .bind(item.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("seq")? as u64, r.try_get("note")?)))
            .collect()
    }

    async fn totals(&self) -> Result<(u64, u64, u64)> {
        let (items,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
            .fetch_one(&self.pool)
            .await?;
        let (blobs, bytes): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(size) FROM (SELECT sha256, MAX(size) AS size FROM items GROUP BY sha256)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((items as u64, blobs as u64, bytes.unwrap_or(0) as u64))
    }

    async fn dump(&self) -> Result<Vec<DumpRow>> {
        let mut out = Vec::new();
        for row in sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM items ORDER BY number"
        )))
        .fetch_all(&self.pool)
        .await?
        {
            // A row that cannot be read is still a row: it is reported, not fatal.
            let key: String = row.try_get("id")?;
            let text = match item_from_row(&row) {
                Ok(item) => serde_json::to_string(&item).expect("serialises"),
                Err(e) => format!("unreadable row: {e}"),
            };
            out.push(DumpRow {
                table: "items",
                key,
                row: text,
            });
        }
        for row in
            sqlx::query("SELECT seq, time, actor, action, item, sha256 FROM events ORDER BY seq")
                .fetch_all(&self.pool)
                .await?
        {
            let key = row.try_get::<i64, _>("seq")?.to_string();
            let text = match event_from_row(&row) {
                Ok(e) => json!([e.seq, e.time, e.actor, e.action, e.item, e.sha256]).to_string(),
                Err(e) => format!("unreadable row: {e}"),
            };
            out.push(DumpRow {
                table: "events",
                key,
                row: text,
            });
        }
        for row in sqlx::query("SELECT seq, item, note FROM annotations ORDER BY seq")
            .fetch_all(&self.pool)
            .await?
        {
            let seq: i64 = row.try_get("seq")?;
            let item: String = row.try_get("item")?;
            let note: String = row.try_get("note")?;
            out.push(DumpRow {
                table: "annotations",
                key: seq.to_string(),
                row: json!([seq, item, note]).to_string(),
            });
        }
        for row in sqlx::query(
            "SELECT sha256, extractor, version, ledger_seq, record, latitude, longitude FROM metadata ORDER BY ledger_seq",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let key = format!("{}/{}", row.try_get::<String, _>("sha256")?, row.try_get::<String, _>("version")?);
            let text = match metadata_from_row(&row) {
                Ok(m) => json!([m.sha256, m.extractor, m.version, m.ledger_seq, m.record, m.latitude, m.longitude]).to_string(),
                Err(e) => format!("unreadable row: {e}"),
            };
            out.push(DumpRow { table: "metadata", key, row: text });
        }
        out.extend(crate::cases::dump(&self.pool).await?);
        for row in sqlx::query(
            "SELECT sha256, algorithm, hash, ledger_seq, turned FROM phashes \
             ORDER BY sha256, algorithm",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let sha: String = row.try_get("sha256")?;
            let alg: String = row.try_get("algorithm")?;
            let hash: i64 = row.try_get("hash")?;
            let seq: i64 = row.try_get("ledger_seq")?;
            // A row that cannot be read is still a row: it is reported, not fatal.
            let row = match turned_column(&row, "phashes") {
                Ok(turned) => json!([sha, alg, hash, seq, turned_hex(turned)]).to_string(),
                Err(e) => format!("unreadable row: {e}"),
            };
            out.push(DumpRow {
                table: "phashes",
                key: format!("{sha}/{alg}"),
                row,
            });
        }
        for row in sqlx::query(
            "SELECT sha256, algorithm, at_ms, hash, ledger_seq, turned FROM keyframe_hashes \
             ORDER BY sha256, algorithm, at_ms",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let sha: String = row.try_get("sha256")?;
            let alg: String = row.try_get("algorithm")?;
            let at_ms: i64 = row.try_get("at_ms")?;
            let hash: i64 = row.try_get("hash")?;
            let seq: i64 = row.try_get("ledger_seq")?;
            let row = match turned_column(&row, "keyframe_hashes") {
                Ok(turned) => json!([sha, alg, at_ms, hash, seq, turned_hex(turned)]).to_string(),
                Err(e) => format!("unreadable row: {e}"),
            };
            out.push(DumpRow {
                table: "keyframe_hashes",
                key: format!("{sha}/{alg}/{at_ms}"),
                row,
            });
        }
        out.sort();
        Ok(out)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyframes(sha256: Digest, frames: &[(u64, u64)], seq: u64) -> Change {
        Change::Keyframes {
            sha256,
            algorithm: "alg".into(),
            frames: frames.iter().map(|&(at, h)| (at, h, None)).collect(),
            seq,
        }
    }

    /// Rows without their turned hashes (none recorded in these tests).
    fn plain(rows: Vec<(Digest, u64, u64, Option<TurnedHashes>)>) -> Vec<(Digest, u64, u64)> {
        rows.into_iter()
            .map(|(d, at, h, turned)| {
                assert_eq!(turned, None);
                (d, at, h)
            })
            .collect()
    }

    /// The latest extraction's keyframes replace the earlier ones of the same bytes and
    /// algorithm, and only those; an extraction without frames leaves none.
    #[tokio::test]
    async fn keyframe_hashes_are_replaced_queried_and_dumped() {
        let c = SqliteCatalog::in_memory().await.unwrap();
        let (a, b) = (Digest::of(b"video a"), Digest::of(b"video b"));
        let first = [(0, 1), (1_500, u64::MAX), (3_000, 3)];
        c.apply(&[keyframes(a, &first, 1), keyframes(b, &[(40, 7)], 2)], 2)
            .await
            .unwrap();
        let mut want = vec![(a, 0, 1), (a, 1_500, u64::MAX), (a, 3_000, 3), (b, 40, 7)];
        want.sort_by_key(|(d, at, _)| (d.to_hex(), *at));
        assert_eq!(plain(c.keyframe_hashes("alg", true).await.unwrap()), want);
        assert!(c.keyframe_hashes("other", true).await.unwrap().is_empty());

        c.apply(&[keyframes(a, &[(500, 9)], 3)], 3).await.unwrap();
        let now = plain(c.keyframe_hashes("alg", true).await.unwrap());
        assert_eq!(
            now.iter().filter(|r| r.0 == a).collect::<Vec<_>>(),
            [&(a, 500, 9)]
        );
        assert!(
            now.contains(&(b, 40, 7)),
            "other bytes are untouched: {now:?}"
        );

        let dump = c.dump().await.unwrap();
        let rows: Vec<&DumpRow> = dump
            .iter()
            .filter(|r| r.table == "keyframe_hashes")
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let of_a = rows
            .iter()
            .find(|r| r.key.starts_with(&a.to_hex()))
            .unwrap();
        assert_eq!(of_a.key, format!("{}/alg/500", a.to_hex()));
        assert_eq!(
            of_a.row,
            format!(r#"["{}","alg",500,9,3,null]"#, a.to_hex())
        );

        c.apply(&[keyframes(b, &[], 4)], 4).await.unwrap();
        assert_eq!(
            plain(c.keyframe_hashes("alg", true).await.unwrap()),
            [(a, 500, 9)]
        );
    }

    /// Turned hashes recorded with an image's hash or a keyframe's come back as they
    /// went in (every bit of each, in order), are in the dump, and are replaced or
    /// removed with the hash.
    #[tokio::test]
    async fn turned_hashes_are_stored_queried_and_dumped() {
        let c = SqliteCatalog::in_memory().await.unwrap();
        let (image, video) = (Digest::of(b"image"), Digest::of(b"video"));
        let turned: TurnedHashes = [u64::MAX, 0, 1, 1 << 63, 0x0123_4567_89ab_cdef, 7, 42];
        let phash = |turned, seq| Change::Phash {
            sha256: image,
            algorithm: "alg".into(),
            hash: 5,
            turned,
            seq,
        };
        let frames = Change::Keyframes {
            sha256: video,
            algorithm: "alg".into(),
            frames: vec![(0, 9, Some(turned)), (40, 8, None)],
            seq: 2,
        };
        c.apply(&[phash(Some(turned), 1), frames], 2).await.unwrap();
        assert_eq!(
            c.phashes("alg", true).await.unwrap(),
            [(image, 5, Some(turned))]
        );
        assert_eq!(
            c.keyframe_hashes("alg", true).await.unwrap(),
            [(video, 0, 9, Some(turned)), (video, 40, 8, None)]
        );
        // Not asked for, none are read.
        assert_eq!(c.phashes("alg", false).await.unwrap(), [(image, 5, None)]);
        assert_eq!(
            c.keyframe_hashes("alg", false).await.unwrap(),
            [(video, 0, 9, None), (video, 40, 8, None)]
        );
        let dump = c.dump().await.unwrap();
        let row = dump.iter().find(|r| r.table == "phashes").unwrap();
        assert_eq!(
            row.row,
            format!(
                r#"["{}","alg",5,1,"{}"]"#,
                image.to_hex(),
                "ffffffffffffffff000000000000000000000000000000018000000000000000\
                 0123456789abcdef0000000000000007000000000000002a"
            )
        );
        // A later extraction without them (an older build's) leaves none.
        c.apply(&[phash(None, 3)], 3).await.unwrap();
        assert_eq!(c.phashes("alg", true).await.unwrap(), [(image, 5, None)]);

        // A damaged cell is reported by the dump, and counts as none recorded for a query.
        sqlx::query("UPDATE phashes SET turned = x'0011'")
            .execute(&c.pool)
            .await
            .unwrap();
        assert_eq!(c.phashes("alg", true).await.unwrap(), [(image, 5, None)]);
        let dump = c.dump().await.unwrap();
        let row = dump.iter().find(|r| r.table == "phashes").unwrap();
        assert_eq!(
            row.row,
            "unreadable row: catalog row ".to_owned()
                + &image.to_hex()
                + " in phashes is unreadable: turned hashes of 2 bytes, not 56"
        );
    }
}
