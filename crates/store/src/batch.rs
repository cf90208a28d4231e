//! Multi-row statements for applying many changes at once.
//!
//! Replaying a ledger (on open, in `custody verify`, after an ingest batch) turns every
//! entry into a few rows. One statement per row costs a round trip to the database
//! worker each; rows of the same table are sent here in groups of up to [`ROWS`] instead.
//! The catalog's tables have no foreign keys or triggers, so rows of different tables
//! may be written in any order; rows of one table keep their ledger order, which the
//! upserts of `metadata` and `phashes` rely on (the last extraction wins).

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::error::Result;
use crate::{EventRow, MetadataRow, TurnedHashes};
use custody_model::{Digest, Item};

/// Rows per statement: well under SQLite's limit of 32,766 bound values for the widest
/// table (items, 19 columns).
pub(crate) const ROWS: usize = 256;

/// Rows waiting to be written, one list per table.
#[derive(Default)]
pub(crate) struct Pending<'a> {
    pub events: Vec<&'a EventRow>,
    pub items: Vec<&'a Item>,
    pub metadata: Vec<&'a MetadataRow>,
    pub phashes: Vec<PhashRow<'a>>,
}

impl Pending<'_> {
    /// Writes whatever is waiting; with `all == false` only full groups.
    pub async fn flush(&mut self, conn: &mut SqliteConnection, all: bool) -> Result<()> {
        let min = if all { 1 } else { ROWS };
        if self.events.len() >= min {
            events(conn, &std::mem::take(&mut self.events)).await?;
        }
        if self.items.len() >= min {
            items(conn, &std::mem::take(&mut self.items)).await?;
        }
        if self.metadata.len() >= min {
            metadata(conn, &std::mem::take(&mut self.metadata)).await?;
        }
        if self.phashes.len() >= min {
            phashes(conn, &std::mem::take(&mut self.phashes)).await?;
        }
        Ok(())
    }
}

/// A statement is kept prepared only when it has the common, full size; a group's
/// remainder is prepared once and dropped, so the statement cache holds one per table.
fn persistent(rows: usize) -> bool {
    rows == ROWS
}

async fn events(conn: &mut SqliteConnection, rows: &[&EventRow]) -> Result<()> {
    for group in rows.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (seq, time, actor, action, item, sha256) ",
        );
        q.push_values(group, |mut b, e| {
            b.push_bind(e.seq as i64)
                .push_bind(e.time.clone())
                .push_bind(e.actor.clone())
                .push_bind(e.action.clone())
                .push_bind(e.item.map(|i| i.to_string()))
                .push_bind(e.sha256.map(|d| d.to_hex()));
        });
        q.build()
            .persistent(persistent(group.len()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn items(conn: &mut SqliteConnection, rows: &[&Item]) -> Result<()> {
    for group in rows.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO items ({}) ",
            crate::sqlite::ITEM_COLUMNS
        ));
        q.push_values(group, |mut b, item| {
            b.push_bind(item.id.to_string())
                .push_bind(item.id.number() as i64)
                .push_bind(item.sha256.to_hex())
                .push_bind(item.size as i64)
                .push_bind(item.media_type.clone())
                .push_bind(item.original_name.clone())
                .push_bind(item.original_path.clone())
                .push_bind(item.fs.modified.map(|t| t.to_string()))
                .push_bind(item.fs.created.map(|t| t.to_string()))
                .push_bind(item.fs.accessed.map(|t| t.to_string()))
                .push_bind(item.collected_by.clone())
                .push_bind(item.source.clone())
                .push_bind(item.method.clone())
                .push_bind(item.case.clone())
                .push_bind(item.note.clone())
                .push_bind(item.ingested_at.to_string())
                .push_bind(item.actor.clone())
                .push_bind(item.ledger_seq as i64)
                .push_bind(item.duplicate_of.map(|d| d.to_string()));
        });
        q.build()
            .persistent(persistent(group.len()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn metadata(conn: &mut SqliteConnection, rows: &[&MetadataRow]) -> Result<()> {
    for group in rows.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO metadata (sha256, extractor, version, ledger_seq, record, latitude, longitude) ",
        );
        q.push_values(group, |mut b, m| {
            b.push_bind(m.sha256.to_hex())
                .push_bind(m.extractor.clone())
                .push_bind(m.version.clone())
                .push_bind(m.ledger_seq as i64)
                .push_bind(m.record.clone())
                .push_bind(m.latitude)
                .push_bind(m.longitude);
        });
        q.push(
            " ON CONFLICT (sha256, extractor, version) DO UPDATE SET ledger_seq = excluded.ledger_seq, \
             record = excluded.record, latitude = excluded.latitude, longitude = excluded.longitude",
        );
        q.build()
            .persistent(persistent(group.len()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A perceptual hash to write: bytes, algorithm, hash, turned hashes, ledger sequence.
type PhashRow<'a> = (&'a Digest, &'a str, u64, Option<TurnedHashes>, u64);

async fn phashes(conn: &mut SqliteConnection, rows: &[PhashRow<'_>]) -> Result<()> {
    for group in rows.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO phashes (sha256, algorithm, hash, ledger_seq, turned) ",
        );
        q.push_values(group, |mut b, (sha256, algorithm, hash, turned, seq)| {
            b.push_bind(sha256.to_hex())
                .push_bind(algorithm.to_string())
                .push_bind(*hash as i64)
                .push_bind(*seq as i64)
                .push_bind(turned.as_ref().map(crate::sqlite::turned_bytes));
        });
        q.push(
            " ON CONFLICT (sha256, algorithm) DO UPDATE SET hash = excluded.hash, \
             ledger_seq = excluded.ledger_seq, turned = excluded.turned",
        );
        q.build()
            .persistent(persistent(group.len()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
