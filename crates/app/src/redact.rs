//! Redaction: working copies for hand-over that hide what must stay protected.
//!
//! A redaction never touches the original. The redacted copy is a new item, recorded by
//! an `item.derived` ledger entry that names the original item and its digest, so the
//! original's custody and proofs still verify in a package that does not contain it.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use custody_model::{Action, CollectedDetails, Digest, FsTimes, Item, ItemId};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::vault::{Pending, Vault};

/// What to do with one item on export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// Rectangles `[x, y, width, height]` in pixels to black out (images only).
    #[serde(default)]
    pub regions: Vec<[u32; 4]>,
    /// Leave the item's bytes out of the package altogether.
    #[serde(default)]
    pub withhold: bool,
    /// Why, as recorded in the ledger and the report.
    pub reason: String,
}

/// `{"ITM-000003": {"regions": [[10,20,200,100]], "reason": "face of a protected witness"}}`
pub type RedactionSpec = BTreeMap<String, Redaction>;

pub fn load_spec(path: &Path) -> Result<RedactionSpec> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
    let spec: RedactionSpec = serde_json::from_str(&text).map_err(|e| {
        AppError::Invalid(format!(
            "{}: line {}, column {}: {e}; expected {{\"ITM-000003\": {{\"regions\": [[x, y, w, h]], \"withhold\": false, \"reason\": \"...\"}}}}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    for (id, r) in &spec {
        if r.reason.trim().is_empty() {
            return Err(AppError::Invalid(format!(
                "{}: the redaction of {id} gives no reason",
                path.display()
            )));
        }
        if !r.withhold && r.regions.is_empty() {
            return Err(AppError::Invalid(format!(
                "{}: the redaction of {id} neither withholds nor names regions",
                path.display()
            )));
        }
        if r.regions.iter().any(|[_, _, w, h]| *w == 0 || *h == 0) {
            return Err(AppError::Invalid(format!(
                "{}: a region of {id} is empty",
                path.display()
            )));
        }
    }
    Ok(spec)
}

/// Blacks out regions of an image, returning the new bytes in the same format.
pub fn redact_image(bytes: &[u8], regions: &[[u32; 4]]) -> Result<Vec<u8>> {
    let format = image::guess_format(bytes)
        .map_err(|e| AppError::Invalid(format!("not an image that can be redacted: {e}")))?;
    let mut img = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| AppError::Invalid(format!("the image cannot be decoded for redaction: {e}")))?
        .into_rgb8();
    let (w, h) = img.dimensions();
    for &[x, y, rw, rh] in regions {
        if x >= w || y >= h {
            return Err(AppError::Invalid(format!(
                "region [{x}, {y}, {rw}, {rh}] lies outside the {w}×{h} image"
            )));
        }
        for py in y..(y.saturating_add(rh)).min(h) {
            for px in x..(x.saturating_add(rw)).min(w) {
                img.put_pixel(px, py, image::Rgb([0, 0, 0]));
            }
        }
    }
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        image::ImageFormat::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95).encode_image(&img)
        }
        image::ImageFormat::Png => img.write_to(&mut out, image::ImageFormat::Png),
        other => {
            return Err(AppError::Invalid(format!(
                "redacting {other:?} images is not supported; withhold the item instead"
            )));
        }
    };
    result.map_err(|e| AppError::Invalid(format!("encoding the redacted image failed: {e}")))?;
    Ok(out.into_inner())
}

/// Stores a redacted copy of `original` as a new item and records how it was derived.
pub async fn derive(vault: &Vault, original: &Item, redaction: &Redaction) -> Result<Item> {
    let path = vault
        .blobs()
        .local_path(&original.sha256, false)
        .ok_or_else(|| AppError::Invalid("redaction needs a local blob store".into()))?;
    let bytes =
        std::fs::read(&path).map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
    if Digest::of(&bytes) != original.sha256 {
        return Err(AppError::DamagedBlob {
            item: original.id.to_string(),
        });
    }
    let redacted = redact_image(&bytes, &redaction.regions)
        .map_err(|e| AppError::Invalid(format!("{}: {e}", original.id)))?;
    let staged = vault.blobs().stage(&mut &redacted[..], &|_| {})?;
    let id = vault.next_item_id();
    let stem = Path::new(&original.original_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = Path::new(&original.original_name)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let details = CollectedDetails {
        case: original.case.clone(),
        collected_by: Some(vault.actor().to_owned()),
        duplicate_of: None,
        fs: FsTimes::default(),
        media_type: original.media_type.clone(),
        method: Some(format!("redaction of {}", original.id)),
        note: Some(redaction.reason.clone()),
        original_name: format!("{stem}-redacted{ext}"),
        original_path: format!("derived from {}", original.id),
        size: staged.size,
        source: original.source.clone(),
    };
    let mut details = serde_json::to_value(&details).expect("serialises");
    details["derived_from"] = original.id.to_string().into();
    details["derived_from_sha256"] = original.sha256.to_hex().into();
    details["redaction"] =
        serde_json::json!({"regions": redaction.regions, "reason": redaction.reason});
    let pending = Pending {
        action: Action::ItemDerived,
        item: Some(id),
        sha256: Some(staged.digest),
        details,
    };
    let entries = vault.commit(vec![pending], &[staged.digest]).await?;
    vault.catalog().item(id).await?.ok_or_else(|| {
        AppError::Invalid(format!(
            "the derived item {id} (entry {}) is not in the catalog",
            entries[0].seq
        ))
    })
}

/// The derived item that redacts `original` with exactly this redaction, if one exists.
pub async fn existing_derivative(
    vault: &Vault,
    original: ItemId,
    redaction: &Redaction,
) -> Result<Option<Item>> {
    for e in vault.entries_of(Action::ItemDerived).await? {
        let same_original = e.detail_str("derived_from") == Some(&original.to_string());
        let same = serde_json::json!({"regions": redaction.regions, "reason": redaction.reason});
        if same_original && e.details.get("redaction") == Some(&same) {
            if let Some(id) = e.item {
                return Ok(vault.catalog().item(id).await?);
            }
        }
    }
    Ok(None)
}
