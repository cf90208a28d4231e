//! CSV for remains and for evidence records, so data can move in bulk from
//! spreadsheets. RFC 4180: comma-separated, fields with commas, quotes or line breaks
//! quoted with `"`, quotes doubled; the first row names the columns (any order, unknown
//! columns refused). Written with LF line endings; read with LF or CRLF, and a UTF-8 BOM
//! is ignored.
//!
//! Both formats are flat: one row per remains (its latest examination, the
//! identification in force, notification and release) or per evidence record (with at
//! most one observation). The case JSON format carries the full history.
//!
//! Time cells hold a date (`2022-04-03`: the whole day at the case's offset), an RFC 3339
//! time, or an interval `earliest/latest` of either.

use std::collections::{BTreeMap, BTreeSet};

use custody_model::ItemId;

use super::{ImportErrors, Issue, Location};
use crate::case::Case;
use crate::command::{Command, ObservationDraft, handle};
use crate::error::CaseError;
use crate::event::Event;
use crate::evidence::{
    Evidence, EvidenceKind, Finding, Interpretation, MediaSpec, Subject, SubjectFinding, Via,
};
use crate::forensic::{
    Decision, DecisionStatus, Examination, ExaminationType, IdMethod, IdResult,
    IdentificationEvidence, MannerOfDeath, Notification, Recovery, Release, Remains, RemainsRecord,
    Sample, Status,
};
use crate::geo::{Area, LatLon, Place, haversine_m};
use crate::ids::{EvidenceId, PersonRef, PlaceId, Tag};
use crate::when::{Basis, DayEnd, Moment, TimeBound, TimeInterval};

/// The columns of the remains CSV, in the order they are written.
pub const REMAINS_COLUMNS: &[&str] = &[
    "tag",
    "synthetic",
    "recovered_at",
    "recovery_basis",
    "place_ref",
    "lat",
    "lon",
    "uncertainty_m",
    "place_basis",
    "context",
    "team",
    "examined_at",
    "examination_type",
    "examiner",
    "cause_of_death",
    "manner_of_death",
    "samples",
    "id_method",
    "id_status",
    "id_at",
    "board_ref",
    "person_ref",
    "notified_at",
    "notified_by",
    "released_at",
    "released_to",
    "release_document",
    "status",
];

const REMAINS_REQUIRED: &[&str] = &["tag", "recovered_at", "context", "team", "status"];

/// The columns of the evidence CSV, in the order they are written.
pub const ITEMS_COLUMNS: &[&str] = &[
    "id",
    "item",
    "kind",
    "source",
    "description",
    "captured_at",
    "captured_basis",
    "place_ref",
    "lat",
    "lon",
    "uncertainty_m",
    "place_basis",
    "links",
    "media",
    "observation",
    "interpretation",
    "interpreted_by",
    "subjects",
];

const ITEMS_REQUIRED: &[&str] = &["id", "kind", "source"];

// ---------------------------------------------------------------- CSV text

#[derive(Debug)]
struct Record {
    row: usize,
    line: usize,
    fields: Vec<String>,
}

/// Splits CSV text into records; a syntax error is returned as an issue.
fn parse_csv(text: &str) -> Result<Vec<Record>, Issue> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quoted_field = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
            }
            '"' => {
                return Err(Issue {
                    location: Location::Csv {
                        row: out.len() + 1,
                        line,
                        column: None,
                    },
                    problem: "a quote inside an unquoted field".into(),
                    expected: "fields containing quotes to be quoted, with quotes doubled (\"say \"\"x\"\"\")".into(),
                });
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
                out.push(Record {
                    row: out.len() + 1,
                    line: start_line,
                    fields: std::mem::take(&mut fields),
                });
                line += 1;
                start_line = line;
                any = false;
            }
            _ => {
                if quoted_field {
                    return Err(Issue {
                        location: Location::Csv {
                            row: out.len() + 1,
                            line,
                            column: None,
                        },
                        problem: format!("text {c:?} after a closing quote"),
                        expected: "a comma or the end of the line after a quoted field".into(),
                    });
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err(Issue {
            location: Location::Csv {
                row: out.len() + 1,
                line: start_line,
                column: None,
            },
            problem: "a quoted field is never closed".into(),
            expected: "a closing quote".into(),
        });
    }
    if any || !fields.is_empty() {
        fields.push(field);
        out.push(Record {
            row: out.len() + 1,
            line: start_line,
            fields,
        });
    }
    // Blank lines carry no data.
    out.retain(|r| !(r.fields.len() == 1 && r.fields[0].trim().is_empty()));
    Ok(out)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write_row(out: &mut String, cells: &[String]) {
    let line: Vec<String> = cells.iter().map(|c| quote(c)).collect();
    out.push_str(&line.join(","));
    out.push('\n');
}

// ---------------------------------------------------------------- reading rows

struct Sheet {
    cols: BTreeMap<String, usize>,
    issues: Vec<Issue>,
}

struct Row<'a> {
    rec: &'a Record,
    sheet_cols: &'a BTreeMap<String, usize>,
}

impl Sheet {
    fn open(records: &[Record], known: &[&str], required: &[&str]) -> Result<Sheet, ImportErrors> {
        let Some(header) = records.first() else {
            return Err(ImportErrors {
                issues: vec![Issue {
                    location: Location::Csv {
                        row: 1,
                        line: 1,
                        column: None,
                    },
                    problem: "the file is empty".into(),
                    expected: format!("a header row naming the columns ({})", known.join(",")),
                }],
            });
        };
        let mut issues = Vec::new();
        let mut cols = BTreeMap::new();
        for (i, name) in header.fields.iter().enumerate() {
            let name = name.trim().to_lowercase();
            let loc = Location::Csv {
                row: 1,
                line: header.line,
                column: Some(name.clone()),
            };
            if !known.contains(&name.as_str()) {
                issues.push(Issue {
                    location: loc,
                    problem: format!("unknown column {name:?}"),
                    expected: format!("columns from: {}", known.join(", ")),
                });
            } else if cols.insert(name.clone(), i).is_some() {
                issues.push(Issue {
                    location: loc,
                    problem: format!("column {name:?} appears twice"),
                    expected: "each column once".into(),
                });
            }
        }
        for r in required {
            if !cols.contains_key(*r) {
                issues.push(Issue {
                    location: Location::Csv {
                        row: 1,
                        line: header.line,
                        column: Some((*r).to_owned()),
                    },
                    problem: format!("required column {r:?} is missing"),
                    expected: format!("the required columns {}", required.join(", ")),
                });
            }
        }
        for rec in &records[1..] {
            if rec.fields.len() != header.fields.len() {
                issues.push(Issue {
                    location: Location::Csv {
                        row: rec.row,
                        line: rec.line,
                        column: None,
                    },
                    problem: format!(
                        "the row has {} fields but the header has {}",
                        rec.fields.len(),
                        header.fields.len()
                    ),
                    expected: "one field per column (quote fields that contain commas)".into(),
                });
            }
        }
        if !issues.is_empty() {
            return Err(ImportErrors { issues });
        }
        Ok(Sheet { cols, issues })
    }

    fn err(
        &mut self,
        row: &Row<'_>,
        column: &str,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.issues.push(Issue {
            location: Location::Csv {
                row: row.rec.row,
                line: row.rec.line,
                column: Some(column.to_owned()),
            },
            problem: problem.into(),
            expected: expected.into(),
        });
    }
}

impl Row<'_> {
    fn get(&self, col: &str) -> Option<&str> {
        let i = *self.sheet_cols.get(col)?;
        self.rec
            .fields
            .get(i)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

fn cell_req<'r>(sheet: &mut Sheet, row: &'r Row<'_>, col: &str, expected: &str) -> Option<&'r str> {
    let v = row.get(col);
    if v.is_none() {
        sheet.err(row, col, "the cell is empty", expected);
    }
    v
}

fn cell_parse<T: std::str::FromStr>(
    sheet: &mut Sheet,
    row: &Row<'_>,
    col: &str,
    expected: &str,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let v = row.get(col)?;
    match v.parse::<T>() {
        Ok(t) => Some(t),
        Err(e) => {
            sheet.err(row, col, e.to_string(), expected);
            None
        }
    }
}

const TIME_CELL: &str = "a date (2022-04-03), an RFC 3339 time, or earliest/latest";

/// Reads a time cell into an interval with `basis`.
fn cell_interval(
    case: &Case,
    sheet: &mut Sheet,
    row: &Row<'_>,
    col: &str,
    basis: &str,
) -> Option<TimeInterval> {
    let v = row.get(col)?;
    let (a, b) = match v.split_once('/') {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (v, v),
    };
    let off = case.local_offset;
    let e = Moment::parse_lenient(a, off, DayEnd::Start);
    let l = Moment::parse_lenient(b, off, DayEnd::End);
    let ((e, ed), (l, ld)) = match (e, l) {
        (Ok(e), Ok(l)) => (e, l),
        _ => {
            sheet.err(row, col, format!("{v:?} is not a time"), TIME_CELL);
            return None;
        }
    };
    let mk = |day: bool| {
        Basis::new(if day {
            format!(
                "{basis} (date only: whole day at UTC{})",
                crate::when::format_offset(off)
            )
        } else {
            basis.to_owned()
        })
        .expect("non-empty")
    };
    match TimeInterval::new(
        TimeBound {
            at: e,
            basis: mk(ed),
        },
        TimeBound {
            at: l,
            basis: mk(ld),
        },
    ) {
        Ok(i) => Some(i),
        Err(err) => {
            sheet.err(
                row,
                col,
                err.to_string(),
                "earliest before latest (a single time needs the JSON format's \"exact\": true)",
            );
            None
        }
    }
}

fn cell_place(case: &Case, sheet: &mut Sheet, row: &Row<'_>, required: bool) -> Option<Place> {
    if let Some(r) = row.get("place_ref") {
        if row.get("lat").is_none() {
            let id = match PlaceId::new(r) {
                Ok(id) => id,
                Err(e) => {
                    sheet.err(row, "place_ref", e.to_string(), "a place id");
                    return None;
                }
            };
            return match case.places.get(&id) {
                Some(p) => Some(p.place.clone().named(id)),
                None => {
                    let known: Vec<&str> = case.places.keys().map(|k| k.as_str()).collect();
                    sheet.err(
                        row,
                        "place_ref",
                        format!("unknown place {id}"),
                        format!("a place of the case ({})", known.join(", ")),
                    );
                    None
                }
            };
        }
    }
    if row.get("lat").is_none() && row.get("lon").is_none() {
        if required {
            sheet.err(
                row,
                "lat",
                "no place given",
                "place_ref, or lat, lon, uncertainty_m and place_basis",
            );
        }
        return None;
    }
    let num = |sheet: &mut Sheet, col: &str, what: &str| -> Option<f64> {
        let v = cell_req(sheet, row, col, what)?;
        match v.parse::<f64>() {
            Ok(f) if f.is_finite() => Some(f),
            _ => {
                sheet.err(row, col, format!("{v:?} is not a number"), what);
                None
            }
        }
    };
    let lat = num(sheet, "lat", "latitude in decimal degrees, e.g. 50.5415");
    let lon = num(sheet, "lon", "longitude in decimal degrees, e.g. 30.2289");
    let r = num(
        sheet,
        "uncertainty_m",
        "the uncertainty radius in metres, e.g. 50",
    );
    let basis = cell_req(sheet, row, "place_basis", "where the position comes from");
    let (lat, lon, r, basis) = (lat?, lon?, r?, basis?);
    let centre = match LatLon::new(lat, lon) {
        Ok(c) => c,
        Err(e) => {
            sheet.err(row, "lat", e.to_string(), "a WGS84 position");
            return None;
        }
    };
    let place = match Place::disc(centre, r, Basis::new(basis).expect("non-empty cell")) {
        Ok(p) => p,
        Err(e) => {
            sheet.err(
                row,
                "uncertainty_m",
                e.to_string(),
                "a radius > 0 (exact points only through the JSON format)",
            );
            return None;
        }
    };
    Some(match row.get("place_ref").map(PlaceId::new) {
        Some(Ok(id)) => place.named(id),
        _ => place,
    })
}

fn bool_cell(sheet: &mut Sheet, row: &Row<'_>, col: &str) -> bool {
    match row.get(col).map(|s| s.to_lowercase()) {
        None => false,
        Some(s) if ["true", "yes", "1"].contains(&s.as_str()) => true,
        Some(s) if ["false", "no", "0"].contains(&s.as_str()) => false,
        Some(s) => {
            sheet.err(
                row,
                col,
                format!("{s:?} is not true or false"),
                "true or false",
            );
            false
        }
    }
}

/// Which column a workflow error from a command points at.
fn column_for(cmd: &Command) -> &'static str {
    match cmd {
        Command::RecoverRemains { .. } => "tag",
        Command::RecordExamination { .. } => "examined_at",
        Command::RecordIdentificationEvidence { .. } => "id_method",
        Command::DecideIdentification { .. } => "id_status",
        Command::NotifyFamily { .. } => "notified_at",
        Command::ReleaseRemains { .. } => "released_at",
        _ => "tag",
    }
}

// ---------------------------------------------------------------- remains

const REG: &str = "remains register (CSV import)";

/// Reads remains rows into events for `case` (all or nothing).
pub fn import_remains_csv(case: &Case, text: &str) -> Result<Vec<Event>, ImportErrors> {
    let records = parse_csv(text).map_err(|i| ImportErrors { issues: vec![i] })?;
    let mut sheet = Sheet::open(&records, REMAINS_COLUMNS, REMAINS_REQUIRED)?;
    let cols = sheet.cols.clone();
    let mut scratch = case.clone();
    let mut events = Vec::new();
    let mut seen: BTreeMap<Tag, usize> = BTreeMap::new();
    for rec in &records[1..] {
        let row = Row {
            rec,
            sheet_cols: &cols,
        };
        let before = sheet.issues.len();
        let cmds = remains_row(&scratch, &mut sheet, &row, &mut seen);
        if sheet.issues.len() > before {
            continue;
        }
        let Some((cmds, stated)) = cmds else { continue };
        let mut tag = None;
        let mut ok = true;
        for cmd in cmds {
            if let Command::RecoverRemains { tag: t, .. } = &cmd {
                tag = Some(t.clone());
            }
            let col = column_for(&cmd);
            match handle(&scratch, cmd) {
                Ok(evs) => {
                    for e in evs {
                        scratch.apply(&e).expect("handle validated the event");
                        events.push(e);
                    }
                }
                Err(e) => {
                    sheet.err(&row, col, e.to_string(), "");
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            if let Some(t) = tag {
                let got = scratch.remains[&t].status;
                if got != stated {
                    sheet.err(
                        &row,
                        "status",
                        format!("the row's records give status {got} but the row states {stated}"),
                        "a status matching the records (fill in the missing dates or correct the status)",
                    );
                }
            }
        }
    }
    if sheet.issues.is_empty() {
        Ok(events)
    } else {
        Err(ImportErrors {
            issues: sheet.issues,
        })
    }
}

fn remains_row(
    case: &Case,
    sheet: &mut Sheet,
    row: &Row<'_>,
    seen: &mut BTreeMap<Tag, usize>,
) -> Option<(Vec<Command>, Status)> {
    let tag: Option<Tag> =
        cell_req(sheet, row, "tag", "a tag number").and_then(|t| match Tag::new(t) {
            Ok(t) => Some(t),
            Err(e) => {
                sheet.err(row, "tag", e.to_string(), "a tag number");
                None
            }
        });
    if let Some(t) = &tag {
        if let Some(first) = seen.get(t) {
            sheet.err(
                row,
                "tag",
                format!("tag number {t} is already used on row {first}"),
                "a tag number used once",
            );
        } else if let Some(new) = case.retired_tags.get(t) {
            sheet.err(
                row,
                "tag",
                format!("tag number {t} was retired when it was corrected to {new}; tag numbers are never reused"),
                "a tag number never used before",
            );
        } else if case.remains.contains_key(t) {
            sheet.err(
                row,
                "tag",
                format!("tag number {t} is already in the case"),
                "a tag number never used before",
            );
        } else {
            seen.insert(t.clone(), row.rec.row);
        }
    }
    let synthetic = bool_cell(sheet, row, "synthetic");
    let rb = row.get("recovery_basis").unwrap_or(REG).to_owned();
    let rtime = cell_interval(case, sheet, row, "recovered_at", &rb);
    if row.get("recovered_at").is_none() {
        sheet.err(row, "recovered_at", "the cell is empty", TIME_CELL);
    }
    let place = cell_place(case, sheet, row, true);
    let context = cell_req(
        sheet,
        row,
        "context",
        "the recovery context (surface, grave, building)",
    )
    .map(str::to_owned);
    let team = cell_req(sheet, row, "team", "the recovery team").map(str::to_owned);
    let stated = cell_req(sheet, row, "status", "a status").and_then(|s| {
        let st = Status::parse(s);
        if st.is_none() {
            sheet.err(
                row,
                "status",
                format!("{s:?} is not a status"),
                Status::ALL.map(|s| s.as_str()).join(", "),
            );
        }
        st
    });
    let basis = |col: &str| format!("{REG}, column {col}");
    let mut cmds = Vec::new();
    let (tag, rtime, place, context, team, stated) =
        (tag?, rtime?, place?, context?, team?, stated?);
    cmds.push(Command::RecoverRemains {
        tag: tag.clone(),
        synthetic,
        recovery: Recovery {
            time: rtime,
            place,
            context,
            team,
            grave_position: None,
            photos: vec![],
            property: vec![],
        },
    });
    if row.get("examined_at").is_some() {
        let time = cell_interval(case, sheet, row, "examined_at", &basis("examined_at"));
        let kind = cell_req(
            sheet,
            row,
            "examination_type",
            "full autopsy, external examination or skeletal analysis",
        );
        let examiner = cell_req(sheet, row, "examiner", "the examiner");
        let mut samples = Vec::new();
        if let Some(s) = row.get("samples") {
            for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                match part.split_once(':') {
                    Some((k, r)) if !k.trim().is_empty() && !r.trim().is_empty() => {
                        samples.push(Sample {
                            kind: k.trim().to_owned(),
                            reference: r.trim().to_owned(),
                        })
                    }
                    _ => sheet.err(
                        row,
                        "samples",
                        format!("{part:?} is not kind:reference"),
                        "samples as kind:reference; kind:reference (e.g. DNA:S-0001)",
                    ),
                }
            }
        }
        if let (Some(time), Some(kind), Some(examiner)) = (time, kind, examiner) {
            cmds.push(Command::RecordExamination {
                tag: tag.clone(),
                examination: Examination {
                    time,
                    kind: ExaminationType::parse(kind),
                    examiner: examiner.to_owned(),
                    findings: vec![],
                    summary: String::new(),
                    cause_of_death: row.get("cause_of_death").map(str::to_owned),
                    manner_of_death: MannerOfDeath::parse(
                        row.get("manner_of_death").unwrap_or("pending"),
                    ),
                    samples,
                    report: None,
                },
            });
        }
    }
    if let Some(m) = row.get("id_method") {
        let method = IdMethod::parse(m);
        if method.is_none() {
            sheet.err(
                row,
                "id_method",
                format!("{m:?} is not an identification method"),
                "DNA, fingerprints, dental, documents, property, visual or medical",
            );
        }
        let status = match row.get("id_status").map(|s| s.to_lowercase()) {
            Some(s) if s == "confirmed" => Some(DecisionStatus::Confirmed),
            Some(s) if s == "presumptive" => Some(DecisionStatus::Presumptive),
            other => {
                sheet.err(
                    row,
                    "id_status",
                    format!(
                        "{:?} is not an identification status",
                        other.unwrap_or_default()
                    ),
                    "confirmed or presumptive when id_method is given",
                );
                None
            }
        };
        let time = cell_interval(case, sheet, row, "id_at", &basis("id_at"));
        if row.get("id_at").is_none() {
            sheet.err(row, "id_at", "the cell is empty", TIME_CELL);
        }
        let person: Option<PersonRef> = cell_parse(
            sheet,
            row,
            "person_ref",
            "a person reference such as AM-0042",
        );
        if let (Some(method), Some(status), Some(time)) = (method, status, time) {
            let board = row.get("board_ref").map(str::to_owned);
            cmds.push(Command::RecordIdentificationEvidence {
                tag: tag.clone(),
                evidence: IdentificationEvidence {
                    method,
                    am_record: person.clone(),
                    result: IdResult::Match,
                    analyst: board.clone().unwrap_or_else(|| "not recorded".into()),
                    time: time.clone(),
                    note: String::new(),
                },
            });
            // The comparison the decision rests on is the one just recorded.
            // Queued commands before it allocate no comparison ids, so the one just
            // queued gets the case's next id.
            let basis_id = case.next_id_evidence_id();
            cmds.push(Command::DecideIdentification {
                tag: tag.clone(),
                decision: Decision {
                    status,
                    person,
                    basis: vec![basis_id],
                    board_ref: board.clone(),
                    secondary_combination_approved: false,
                    time,
                    decided_by: board.unwrap_or_else(|| "not recorded".into()),
                },
            });
        }
    } else if let Some(s) = row.get("id_status") {
        if !s.eq_ignore_ascii_case("unidentified") {
            sheet.err(
                row,
                "id_method",
                "an identification status without a method",
                "the identification method (DNA, fingerprints, dental, ...)",
            );
        }
    }
    if row.get("notified_at").is_some() {
        if let Some(time) = cell_interval(case, sheet, row, "notified_at", &basis("notified_at")) {
            cmds.push(Command::NotifyFamily {
                tag: tag.clone(),
                notification: Notification {
                    time,
                    by: row.get("notified_by").unwrap_or("not recorded").to_owned(),
                    next_of_kin: None,
                },
            });
        }
    }
    if row.get("released_at").is_some() {
        let time = cell_interval(case, sheet, row, "released_at", &basis("released_at"));
        let to = cell_req(
            sheet,
            row,
            "released_to",
            "the recipient's role, e.g. next of kin",
        );
        let document: Option<ItemId> = cell_parse(
            sheet,
            row,
            "release_document",
            "a vault item id such as ITM-000042",
        );
        if let (Some(time), Some(to)) = (time, to) {
            cmds.push(Command::ReleaseRemains {
                tag: tag.clone(),
                release: Release {
                    time,
                    released_to: to.to_owned(),
                    recipient: None,
                    document,
                    by: "not recorded".into(),
                },
            });
        }
    }
    Some((cmds, stated))
}

fn interval_cell(case: &Case, i: &TimeInterval) -> String {
    let e = i.earliest();
    let day = e.datetime().to_offset(case.local_offset).date();
    if e == Moment::of_day(day, case.local_offset, DayEnd::Start)
        && i.latest() == Moment::of_day(day, case.local_offset, DayEnd::End)
    {
        return day.to_string();
    }
    format!("{}/{}", i.earliest(), i.latest())
}

/// True when `p` is an unchanged copy of the named place it refers to, so the
/// reference alone describes it.
fn is_named_copy(case: &Case, p: &Place) -> bool {
    p.name_ref()
        .and_then(|n| case.places.get(n))
        .is_some_and(|np| np.place.area() == p.area() && np.place.basis() == p.basis())
}

fn place_cells(p: &Place) -> [String; 5] {
    let named = p.name_ref().map(|n| n.to_string()).unwrap_or_default();
    match p.area() {
        Area::Disc { centre, radius_m } => [
            named,
            centre.lat.to_string(),
            centre.lon.to_string(),
            radius_m.to_string(),
            p.basis().to_string(),
        ],
        Area::Polygon { vertices, margin_m } => {
            let c = p.centre();
            let r = vertices
                .iter()
                .map(|v| haversine_m(*v, c))
                .fold(0.0, f64::max)
                + margin_m;
            [
                named,
                c.lat.to_string(),
                c.lon.to_string(),
                r.ceil().to_string(),
                format!("disc covering a polygon ({})", p.basis()),
            ]
        }
    }
}

/// Writes one row per remains (latest examination, identification in force,
/// notification, release).
pub fn export_remains_csv(case: &Case) -> String {
    let mut out = String::new();
    write_row(
        &mut out,
        &REMAINS_COLUMNS
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    );
    for r in case.remains.values() {
        write_row(&mut out, &remains_cells(case, r));
    }
    out
}

fn remains_cells(case: &Case, r: &Remains) -> Vec<String> {
    let mut m: BTreeMap<&str, String> = BTreeMap::new();
    m.insert("tag", r.tag.to_string());
    m.insert("synthetic", r.synthetic.to_string());
    m.insert("recovered_at", interval_cell(case, &r.recovery.time));
    m.insert(
        "recovery_basis",
        strip_day_note(&r.recovery.time.earliest_bound().basis),
    );
    let [pref, lat, lon, unc, pb] = place_cells(&r.recovery.place);
    if !is_named_copy(case, &r.recovery.place) {
        m.insert("lat", lat);
        m.insert("lon", lon);
        m.insert("uncertainty_m", unc);
        m.insert("place_basis", pb);
    }
    m.insert("place_ref", pref);
    m.insert("context", r.recovery.context.clone());
    m.insert("team", r.recovery.team.clone());
    if let Some((_, e)) = r.examinations().last() {
        m.insert("examined_at", interval_cell(case, &e.time));
        m.insert("examination_type", e.kind.label().to_owned());
        m.insert("examiner", e.examiner.clone());
        m.insert(
            "cause_of_death",
            e.cause_of_death.clone().unwrap_or_default(),
        );
        m.insert("manner_of_death", e.manner_of_death.label().to_owned());
        let s: Vec<String> = e
            .samples
            .iter()
            .map(|s| format!("{}:{}", s.kind, s.reference))
            .collect();
        m.insert("samples", s.join("; "));
    }
    let decision = match &r.confirmed {
        Some(id) => r.decision(id).map(|d| (id, d)),
        None => r.decisions().filter(|(id, _)| !r.is_withdrawn(id)).last(),
    };
    if let Some((_, d)) = decision {
        if let Some(ev) = d.basis.first().and_then(|b| r.id_evidence(b)) {
            m.insert("id_method", ev.method.as_str().to_owned());
        }
        m.insert(
            "id_status",
            match d.status {
                DecisionStatus::Confirmed => "confirmed",
                DecisionStatus::Presumptive => "presumptive",
            }
            .to_owned(),
        );
        m.insert("id_at", interval_cell(case, &d.time));
        m.insert("board_ref", d.board_ref.clone().unwrap_or_default());
        m.insert(
            "person_ref",
            d.person.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        );
    }
    for rec in &r.records {
        match rec {
            RemainsRecord::FamilyNotified { notification } => {
                m.insert("notified_at", interval_cell(case, &notification.time));
                m.insert("notified_by", notification.by.clone());
            }
            RemainsRecord::Released { release } => {
                m.insert("released_at", interval_cell(case, &release.time));
                m.insert("released_to", release.released_to.clone());
                m.insert(
                    "release_document",
                    release.document.map(|d| d.to_string()).unwrap_or_default(),
                );
            }
            _ => {}
        }
    }
    m.insert("status", r.status.to_string());
    REMAINS_COLUMNS
        .iter()
        .map(|c| m.remove(c).unwrap_or_default())
        .collect()
}

/// The basis without the note a date-only import appended.
fn strip_day_note(b: &Basis) -> String {
    let s = b.as_str();
    match s.find(" (date only: whole day at UTC") {
        Some(i) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

// ---------------------------------------------------------------- evidence

/// Reads evidence rows (with at most one observation each) into events for `case`.
pub fn import_items_csv(case: &Case, text: &str) -> Result<Vec<Event>, ImportErrors> {
    let records = parse_csv(text).map_err(|i| ImportErrors { issues: vec![i] })?;
    let mut sheet = Sheet::open(&records, ITEMS_COLUMNS, ITEMS_REQUIRED)?;
    let cols = sheet.cols.clone();
    // Ids of this file, so rows may corroborate each other regardless of order.
    let mut ids: BTreeMap<EvidenceId, usize> = BTreeMap::new();
    for rec in &records[1..] {
        let row = Row {
            rec,
            sheet_cols: &cols,
        };
        if let Some(v) = row.get("id") {
            match EvidenceId::new(v) {
                Ok(id) => {
                    if let Some(first) = ids.get(&id) {
                        sheet.err(
                            &row,
                            "id",
                            format!("evidence id {id} is already used on row {first}"),
                            "an evidence id used once",
                        );
                    } else if case.evidence.contains_key(&id) {
                        sheet.err(
                            &row,
                            "id",
                            format!("evidence {id} is already in the case"),
                            "a new evidence id",
                        );
                    } else {
                        ids.insert(id, rec.row);
                    }
                }
                Err(e) => sheet.err(&row, "id", e.to_string(), "an evidence id such as EV-04"),
            }
        }
    }
    let mut scratch = case.clone();
    let mut evidence_events = Vec::new();
    let mut observation_cmds = Vec::new();
    for rec in &records[1..] {
        let row = Row {
            rec,
            sheet_cols: &cols,
        };
        if let Some((ev, obs)) = item_row(case, &mut sheet, &row) {
            evidence_events.push((Event::EvidenceRegistered { evidence: ev }, rec.row));
            if let Some(o) = obs {
                observation_cmds.push((o, rec.row));
            }
        }
    }
    if !sheet.issues.is_empty() {
        return Err(ImportErrors {
            issues: sheet.issues,
        });
    }
    let mut events = Vec::new();
    let row_of = |n: usize| records.iter().find(|r| r.row == n).expect("row exists");
    for (e, n) in evidence_events {
        if let Err(err) = scratch.apply(&e) {
            let rec = row_of(n);
            sheet.err(
                &Row {
                    rec,
                    sheet_cols: &cols,
                },
                "id",
                err.to_string(),
                "",
            );
            continue;
        }
        events.push(e);
    }
    for (draft, n) in observation_cmds {
        match handle(&scratch, Command::RecordObservation { draft }) {
            Ok(evs) => {
                for e in evs {
                    scratch.apply(&e).expect("validated by handle");
                    events.push(e);
                }
            }
            Err(err) => {
                let rec = row_of(n);
                let col = match err {
                    CaseError::Unknown { .. } => "interpretation",
                    _ => "observation",
                };
                sheet.err(
                    &Row {
                        rec,
                        sheet_cols: &cols,
                    },
                    col,
                    err.to_string(),
                    "",
                );
            }
        }
    }
    if sheet.issues.is_empty() {
        Ok(events)
    } else {
        Err(ImportErrors {
            issues: sheet.issues,
        })
    }
}

fn item_row(
    case: &Case,
    sheet: &mut Sheet,
    row: &Row<'_>,
) -> Option<(Evidence, Option<ObservationDraft>)> {
    let id: Option<EvidenceId> = row.get("id").and_then(|v| EvidenceId::new(v).ok());
    if row.get("id").is_none() {
        sheet.err(
            row,
            "id",
            "the cell is empty",
            "an evidence id such as EV-04",
        );
    }
    let item: Option<ItemId> = cell_parse(sheet, row, "item", "a vault item id such as ITM-000042");
    let kind = cell_req(
        sheet,
        row,
        "kind",
        "the kind of evidence, e.g. satellite_image",
    )
    .map(EvidenceKind::parse);
    let source =
        cell_req(sheet, row, "source", "who or what the evidence comes from").map(str::to_owned);
    let captured = match row.get("captured_at") {
        Some(_) => {
            let b = cell_req(
                sheet,
                row,
                "captured_basis",
                "where the capture time comes from",
            )
            .map(str::to_owned);
            b.and_then(|b| cell_interval(case, sheet, row, "captured_at", &b))
        }
        None => None,
    };
    let place = cell_place(case, sheet, row, false);
    let links: Vec<String> = row
        .get("links")
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let media = row.get("media").map(|m| MediaSpec {
        kind: "generated_placeholder".into(),
        render: Some(m.to_owned()),
    });
    let obs = match row.get("observation") {
        None => {
            for col in ["interpretation", "interpreted_by", "subjects"] {
                if row.get(col).is_some() {
                    sheet.err(
                        row,
                        col,
                        "given without an observation",
                        "the observation column filled in too",
                    );
                }
            }
            None
        }
        Some(shows) => {
            if captured.is_none() {
                sheet.err(
                    row,
                    "captured_at",
                    "an observation needs the capture time",
                    TIME_CELL,
                );
            }
            if place.is_none() {
                sheet.err(
                    row,
                    "lat",
                    "an observation needs a place",
                    "place_ref, or lat, lon, uncertainty_m and place_basis",
                );
            }
            let interpretation = match row.get("interpretation") {
                Some(text) => {
                    let by = cell_req(
                        sheet,
                        row,
                        "interpreted_by",
                        "who interprets what the item shows",
                    );
                    by.map(|by| Interpretation {
                        text: text.to_owned(),
                        by: by.to_owned(),
                        corroborated_by: vec![],
                    })
                }
                None => None,
            };
            let via = if interpretation.is_some() {
                Via::Interpretation
            } else {
                Via::Shown
            };
            let mut subjects = Vec::new();
            let mut seen = BTreeSet::new();
            if let Some(s) = row.get("subjects") {
                for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let (finding, text) = match part.strip_prefix("absent:") {
                        Some(rest) => (Finding::Absent, rest),
                        None => (Finding::Present, part),
                    };
                    match Subject::new(text) {
                        Ok(subject) if seen.insert(subject.clone()) => {
                            subjects.push(SubjectFinding {
                                subject,
                                finding,
                                via,
                            })
                        }
                        Ok(subject) => sheet.err(
                            row,
                            "subjects",
                            format!("subject {subject:?} appears twice"),
                            "each subject once",
                        ),
                        Err(e) => sheet.err(
                            row,
                            "subjects",
                            e.to_string(),
                            "subjects separated by ';', e.g. bodies on street; absent:vehicles",
                        ),
                    }
                }
            }
            match (&id, &captured, &place) {
                (Some(id), Some(t), Some(p)) => Some(ObservationDraft {
                    evidence: id.clone(),
                    shows: shows.to_owned(),
                    interpretation,
                    subjects,
                    place: p.clone(),
                    time: t.clone(),
                    reported_by: None,
                    derived_from: vec![],
                }),
                _ => None,
            }
        }
    };
    Some((
        Evidence {
            id: id?,
            item,
            kind: kind?,
            source: source?,
            description: row.get("description").unwrap_or_default().to_owned(),
            captured,
            place,
            links,
            media,
            remains: vec![],
            coverage: None,
        },
        obs,
    ))
}

/// Writes one row per evidence record, with its first observation in force.
pub fn export_items_csv(case: &Case) -> String {
    let mut out = String::new();
    write_row(
        &mut out,
        &ITEMS_COLUMNS
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    );
    for ev in case.evidence.values() {
        let mut m: BTreeMap<&str, String> = BTreeMap::new();
        m.insert("id", ev.id.to_string());
        m.insert("item", ev.item.map(|i| i.to_string()).unwrap_or_default());
        m.insert("kind", ev.kind.to_string());
        m.insert("source", ev.source.clone());
        m.insert("description", ev.description.clone());
        if let Some(c) = &ev.captured {
            m.insert("captured_at", interval_cell(case, c));
            m.insert("captured_basis", strip_day_note(&c.earliest_bound().basis));
        }
        if let Some(p) = &ev.place {
            let [pref, lat, lon, unc, pb] = place_cells(p);
            if !is_named_copy(case, p) {
                m.insert("lat", lat);
                m.insert("lon", lon);
                m.insert("uncertainty_m", unc);
                m.insert("place_basis", pb);
            }
            m.insert("place_ref", pref);
        }
        m.insert("links", ev.links.join(" "));
        if let Some(r) = ev.media.as_ref().and_then(|m| m.render.clone()) {
            m.insert("media", r);
        }
        if let Some(o) = case.active_observations().find(|o| o.evidence == ev.id) {
            m.insert("observation", o.shows.clone());
            if let Some(i) = &o.interpretation {
                m.insert("interpretation", i.text.clone());
                m.insert("interpreted_by", i.by.clone());
            }
            let s: Vec<String> = o
                .subjects
                .iter()
                .map(|s| match s.finding {
                    Finding::Present => s.subject.to_string(),
                    Finding::Absent => format!("absent:{}", s.subject),
                })
                .collect();
            m.insert("subjects", s.join("; "));
        }
        let cells: Vec<String> = ITEMS_COLUMNS
            .iter()
            .map(|c| m.remove(c).unwrap_or_default())
            .collect();
        write_row(&mut out, &cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_newlines_and_crlf() {
        let text = "a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\"multi\nline\",,z\n\n";
        let recs = parse_csv(text).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].fields, ["1", "x, \"y\"", "3"]);
        assert_eq!(recs[2].fields, ["multi\nline", "", "z"]);
        assert_eq!(recs[2].line, 3);
        assert_eq!(recs[2].row, 3);
    }

    #[test]
    fn reports_broken_quotes_with_their_row() {
        let e = parse_csv("a,b\n1,\"open\n2,3\n").unwrap_err();
        assert!(e.problem.contains("never closed"), "{e}");
        assert_eq!(
            e.location,
            Location::Csv {
                row: 2,
                line: 2,
                column: None
            }
        );
        let e = parse_csv("a,b\n1,x\"y\n").unwrap_err();
        assert!(e.problem.contains("quote inside"), "{e}");
        let e = parse_csv("a,b\n\"x\"y,2\n").unwrap_err();
        assert!(e.problem.contains("after a closing quote"), "{e}");
    }

    #[test]
    fn quoting_round_trips() {
        let cells = vec![
            "plain".to_owned(),
            "a, b".into(),
            "say \"hi\"".into(),
            "two\nlines".into(),
        ];
        let mut s = String::new();
        write_row(&mut s, &cells);
        let recs = parse_csv(&s).unwrap();
        assert_eq!(recs[0].fields, cells);
    }
}
