//! Moving cases in and out: the case JSON format and the remains and evidence CSV
//! formats (all described in `docs/design/case-model.md`).
//!
//! Imports are all-or-nothing. The whole input is validated first, and every problem is
//! reported at once ([`ImportErrors`]), each with its location (for JSON: the JSON path
//! and the line; for CSV: the row, the line and the column), what is wrong and what was
//! expected. Only when nothing is wrong is the full list of events returned; they have
//! been applied to a scratch copy of the case, so they are known to apply.
//!
//! Exports never include sealed data: the case state holds none, and the export
//! structures are built from it alone.

mod csv;
mod json;
mod jsonpos;
pub(crate) mod reader;

use std::fmt;

pub use csv::{
    ITEMS_COLUMNS, REMAINS_COLUMNS, export_items_csv, export_remains_csv, import_items_csv,
    import_remains_csv,
};
pub use json::{CASE_FORMAT, CASE_FORMAT_VERSION, Imported, export_json, import_json};
pub(crate) use json::{read_conflict as json_read_conflict, read_figures as json_read_figures};

/// Where a problem is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Location {
    /// A JSON value, by path (`$.remains[3].recovery.place.uncertainty_m`) and line.
    Json { path: String, line: Option<usize> },
    /// A JSON syntax error.
    JsonSyntax { line: usize, column: usize },
    /// A CSV cell or row: `row` counts records from 1 (the header is row 1).
    Csv {
        row: usize,
        line: usize,
        column: Option<String>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Json {
                path,
                line: Some(l),
            } => write!(f, "line {l}, {path}"),
            Location::Json { path, line: None } => f.write_str(path),
            Location::JsonSyntax { line, column } => write!(f, "line {line}, column {column}"),
            Location::Csv {
                row,
                line,
                column: Some(c),
            } => write!(f, "row {row} (line {line}), column {c}"),
            Location::Csv {
                row,
                line,
                column: None,
            } => write!(f, "row {row} (line {line})"),
        }
    }
}

/// One problem found in an import.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Issue {
    pub location: Location,
    pub problem: String,
    pub expected: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)?;
        if !self.expected.is_empty() {
            write!(f, "; expected {}", self.expected)?;
        }
        Ok(())
    }
}

/// Every problem found in an import; nothing was imported.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub struct ImportErrors {
    pub issues: Vec<Issue>,
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "nothing was imported: {} problem(s) found; fix them and import again",
            self.issues.len()
        )?;
        for i in &self.issues {
            writeln!(f, "  {i}")?;
        }
        Ok(())
    }
}

impl ImportErrors {
    /// True when some issue's text contains `needle` (for tests and tooling).
    pub fn mentions(&self, needle: &str) -> bool {
        self.issues.iter().any(|i| i.to_string().contains(needle))
    }
}
