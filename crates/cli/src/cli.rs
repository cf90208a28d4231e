//! Flags and commands.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "custody",
    version,
    about = "An evidence vault: preserve files bit for bit, prove their custody with a signed ledger.",
    long_about = "Custody stores evidence content-addressed by SHA-256 and records every action in an \
append-only, signed custody ledger (an RFC 6962 Merkle tree with C2SP checkpoints) that anyone can \
verify without trusting the vault.\n\nExit status: 0 success; 1 something failed or a check found \
problems; 2 the command could not run."
)]
pub struct Cli {
    /// The vault directory. Defaults to $CUSTODY_VAULT, else the nearest enclosing vault.
    #[arg(long, global = true, env = "CUSTODY_VAULT", value_name = "DIR")]
    pub vault: Option<PathBuf>,

    /// Print machine-readable JSON on standard output instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Who is acting, as recorded in the ledger. Defaults to $CUSTODY_ACTOR, else user@host.
    #[arg(long, global = true, env = "CUSTODY_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new vault: catalog, blob store, ledger and its signing key.
    Init {
        /// Directory to create (must not exist, or be empty).
        dir: PathBuf,
        /// The organisation or unit that keeps the vault, as shown in checkpoints and reports.
        #[arg(long)]
        name: String,
    },
    /// Preserve files and folders as evidence items, with who collected them, where and how.
    Ingest(IngestArgs),
    /// List items.
    List {
        /// Only items of this case.
        #[arg(long)]
        case: Option<String>,
        /// At most this many items.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Show an item: its metadata, custody history and place in the ledger.
    Show {
        /// Item id (ITM-000042) or SHA-256 prefix (at least 4 hex digits).
        item: String,
    },
    /// Write an item's bytes to a file, verified on the way; the read is logged.
    Get {
        /// Item id or SHA-256 prefix.
        item: String,
        /// Output file (it must not exist unless --force).
        #[arg(long, short)]
        out: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Why the item is read, recorded in the ledger (e.g. "expert examination").
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Add a note to an item (the note becomes a ledger entry; the item itself never changes).
    Annotate {
        /// Item id or SHA-256 prefix.
        item: String,
        /// The note.
        note: String,
    },
    /// Check the whole vault: ledger, signatures, catalog against ledger, blobs.
    Verify {
        /// Re-hash every blob (reads every byte; uses all cores).
        #[arg(long)]
        full: bool,
        /// A checkpoint published earlier: the ledger must still be consistent with it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// The custody ledger: checkpoints, verifier key, entries and proofs for third parties.
    #[command(subcommand)]
    Log(LogCommand),
    /// Extract metadata (capture times, position, device, content credentials) from one
    /// item or all items already in the vault. Ingest extracts as it goes; this catches up
    /// after an extractor upgrade. Each extraction is a ledger entry; originals are only
    /// read.
    #[command(group(ArgGroup::new("which").required(true).args(["item", "all"])))]
    Extract {
        /// One item: its id (ITM-000042) or SHA-256 prefix (at least 4 hex digits).
        item: Option<String>,
        /// Every item whose bytes lack a record of the current extractor version. A
        /// perceptual hash already recorded for the same bytes (same algorithm) is
        /// recorded again rather than computed.
        #[arg(long)]
        all: bool,
        /// Extract again even where a record of this version exists, and compute every
        /// perceptual hash and video keyframe hash again.
        #[arg(long)]
        force: bool,
    },
    /// Near-duplicates of an image or a video across the vault (resized, recompressed,
    /// cropped copies; stills of a video and videos showing a picture).
    Similar(crate::cmd::similar::SimilarArgs),
    /// Groups of near-duplicate images and videos, each with its earliest provable
    /// appearance.
    Clusters(crate::cmd::similar::ClustersArgs),
    /// Items with a position, for QGIS, Google Earth or a spreadsheet.
    ExportGeo {
        /// Only items of this case.
        #[arg(long)]
        case: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GeoFormatArg::Geojson)]
        format: GeoFormatArg,
        /// Write to this file instead of standard output (`-` is standard output); a
        /// summary then goes to standard error (to standard output as JSON, with --json).
        /// An existing file is never replaced. Without --out, --json is accepted for
        /// GeoJSON only (the document on standard output is JSON); with KML or CSV it is
        /// refused. In CSV, a text a spreadsheet would take for a formula (a file name
        /// beginning with =, +, -, @, a tab or a carriage return) is written after a `'`;
        /// GeoJSON and KML keep every text as it is.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Write a court-ready package (BagIt 1.0) of a case or of items, with their custody
    /// history, proofs, signed checkpoint, timestamps and a human-readable report.html.
    Export(crate::cmd::package::ExportArgs),
    /// Check a package strictly: the bag (RFC 8493), every hash, ledger proofs,
    /// signatures and timestamps. Writes nothing.
    VerifyPackage(crate::cmd::package::CheckArgs),
    /// Bring a package from another vault in: verified first, the sender's history kept.
    /// Importing the same package twice changes nothing.
    Import(crate::cmd::package::CheckArgs),
    /// Obtain RFC 3161 timestamps over the latest checkpoint from one or more TSAs.
    Timestamp {
        /// A time-stamping authority's URL (http://); repeat for several. Without one, the
        /// configured TSAs are asked.
        #[arg(long = "tsa", value_name = "URL")]
        tsas: Vec<String>,
        /// PEM file of TSA root certificates to trust when tokens are verified: recorded
        /// in the ledger (a `trust.added` entry, withdrawn only by `custody trust
        /// --remove`), copied to keys/tsa-roots.pem.
        #[arg(long, value_name = "FILE")]
        roots: Option<PathBuf>,
        /// Remember these TSAs: from then on, every command that changes the vault stamps
        /// the new checkpoint when the newest token is older than --every.
        #[arg(long)]
        save: bool,
        /// With --save: seconds between automatic stamps.
        #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
        every: u64,
        /// Seconds to wait for each TSA.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        timeout: u64,
    },
    /// Whom the vault trusts to sign content credentials (C2PA): lists its trust
    /// anchors, and adds to them. `custody show` judges each item's signer against them.
    Credentials {
        /// PEM file (or one DER certificate) of root certificates to trust for C2PA
        /// claim signers: the C2PA trust list, or a newsroom's or camera maker's own CA.
        /// Recorded in the ledger (a `trust.added` entry, withdrawn only by `custody trust
        /// --remove`), copied to keys/c2pa-anchors.pem.
        #[arg(long, value_name = "FILE")]
        anchors: Option<PathBuf>,
    },
    /// Whom the vault trusts: lists the TSA roots and C2PA trust anchors its ledger
    /// records (and any certificate its copies in keys/ hold that the ledger does not),
    /// and stops trusting one with --remove.
    Trust {
        /// Stop trusting the certificate with this SHA-256 (64 hex digits, as listed): a
        /// `trust.removed` ledger entry. What it vouched for is judged again without it.
        #[arg(long, value_name = "SHA256")]
        remove: Option<String>,
        /// With --remove: why, recorded in the ledger.
        #[arg(long, requires = "remove", value_name = "TEXT")]
        reason: Option<String>,
        /// With --remove: only from this set (a certificate trusted both as a TSA root
        /// and as a C2PA anchor is otherwise withdrawn from both).
        #[arg(long, requires = "remove", value_enum)]
        from: Option<crate::cmd::trust::TrustSet>,
        /// Trust again a certificate withdrawn before (giving it to --roots or
        /// --anchors again does not): a `trust.added` entry.
        #[arg(long, value_name = "SHA256", conflicts_with = "remove")]
        restore: Option<String>,
    },
    /// The catalog (the SQL view of the ledger).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Cases: open, list, show, export and import a whole case (JSON).
    #[command(subcommand)]
    Case(crate::cmd::case::CaseCommand),
    /// Named places and control periods of a case.
    #[command(subcommand)]
    Place(crate::cmd::case::PlaceCommand),
    /// Evidence records of a case, their vault items and observations.
    #[command(subcommand)]
    Evidence(crate::cmd::case::EvidenceCommand),
    /// Incidents: place, time, candidate crimes, linked evidence, element links.
    #[command(subcommand)]
    Incident(crate::cmd::case::IncidentCommand),
    /// Remains and forensic records through the guarded workflow; CSV import and export.
    #[command(subcommand)]
    Remains(crate::cmd::remains::RemainsCommand),
    /// Pseudonymous witnesses, consent, testimony; sealed identities.
    #[command(subcommand)]
    Witness(crate::cmd::witness::WitnessCommand),
    /// Claims checked against the evidence, and the analyst's sign-off.
    #[command(subcommand)]
    Claims(crate::cmd::claims::ClaimsCommand),
    /// Reports on a case (forensic counts as of a date).
    #[command(subcommand)]
    Report(crate::cmd::claims::ReportCommand),
    /// The element-of-crime matrix of an incident, gaps shown plainly.
    Matrix(crate::cmd::claims::MatrixArgs),
    /// Build a demonstration vault from the synthetic Bucha dataset (generated placeholder
    /// media, case, claims, remains), run the claim checks and verify the vault.
    Demo {
        /// Directory for the demo (created; must not hold a vault already).
        #[arg(default_value = "custody-demo")]
        dir: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Files or folders (folders are walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The case the material belongs to (e.g. BUCHA-2022).
    #[arg(long)]
    pub case: Option<String>,
    /// Who collected it (person or role).
    #[arg(long, value_name = "WHO")]
    pub collected_by: Option<String>,
    /// Where it came from (team, organisation, device, platform).
    #[arg(long)]
    pub source: Option<String>,
    /// How it was collected (e.g. "copied from SD card").
    #[arg(long)]
    pub method: Option<String>,
    /// A free-text note kept with each item.
    #[arg(long)]
    pub note: Option<String>,
    /// Follow symbolic links (by default they are reported and skipped).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Preserve only: skip metadata extraction and perceptual hashing, for the fastest
    /// secure copy of a large dump (`custody extract --all` does them later).
    #[arg(long)]
    pub no_extract: bool,
    /// Skip the files this vault already collected into the same case from the same real
    /// path (links resolved) with the same size and modification time, as after an
    /// interrupted ingest; without it, every file given is collected again (a new item
    /// and ledger entry, its bytes stored once).
    #[arg(long)]
    pub resume: bool,
    /// Commit at most this many files at once; each committed batch is durable and reported
    /// before the next begins.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub batch: u16,
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint), or the one of --size.
    Checkpoint {
        #[arg(long)]
        size: Option<u64>,
    },
    /// List the tree sizes of all signed checkpoints.
    Checkpoints,
    /// Print the vault's verifier key (C2SP signed-note vkey).
    Key,
    /// Print ledger entry N (pretty JSON, or its exact bytes with --raw).
    Entry {
        n: u64,
        /// The exact bytes that are hashed into the ledger, without a trailing newline.
        #[arg(long)]
        raw: bool,
    },
    /// Inclusion proof for entry N, as JSON.
    Prove {
        n: u64,
        /// Tree size to prove against (default: the latest checkpoint).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two tree sizes, as JSON.
    Consistency { old: u64, new: u64 },
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Replace the catalog with one rebuilt from the ledger (after checking the ledger
    /// against its signed checkpoint). The old catalog file is kept beside the new one.
    Rebuild,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum GeoFormatArg {
    Geojson,
    Kml,
    Csv,
}
