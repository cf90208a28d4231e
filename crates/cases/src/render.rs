//! Plain-text reports for the terminal: case summary, forensic report as of a date,
//! claim-check results. Every report starts with the case's notice when it has one
//! (the demo's must be shown wherever the demo is shown). None of them can include a
//! sealed identity: they read the case state, which holds none; the only rendering of
//! sealed data is [`crate::witness::render_unsealed`], which needs an
//! [`crate::witness::UnsealGrant`].

use crate::case::Case;
use crate::claims::{ClaimResult, Relation};
use crate::forensic::{Status, StatusAt, case_counts};
use crate::geo::Place;
use crate::when::Moment;

/// The notice block, if the case has a notice.
pub fn notice(case: &Case) -> String {
    match &case.notice {
        Some(n) => format!("NOTICE: {n}\n\n"),
        None => String::new(),
    }
}

/// A short summary of the case.
pub fn case_summary(case: &Case) -> String {
    let mut out = notice(case);
    out.push_str(&format!("Case {} — {}\n", case.id, case.title));
    if let Some(c) = &case.armed_conflict {
        out.push_str(&format!("Armed conflict: {:?} since {}\n", c.kind, c.since));
    }
    out.push_str(&format!(
        "{} places, {} control periods, {} evidence records ({} linked to vault items), {} observations\n",
        case.places.len(),
        case.control_periods.len(),
        case.evidence.len(),
        case.evidence.values().filter(|e| e.item.is_some()).count(),
        case.active_observations().count()
    ));
    out.push_str(&format!(
        "{} incidents, {} claims ({} sign-offs), {} remains ({} synthetic), {} witnesses, {} testimonies\n",
        case.incidents.len(),
        case.claims.len(),
        case.signoffs.len(),
        case.remains.len(),
        case.remains.values().filter(|r| r.synthetic).count(),
        case.witnesses.len(),
        case.testimonies.len()
    ));
    for w in case.witnesses.values() {
        let n = case
            .testimonies
            .values()
            .filter(|t| t.witness == w.pseudonym)
            .count();
        out.push_str(&crate::witness::render_public(w, n));
    }
    out
}

/// The forensic report: counts as of `as_of` (within `area` when given) and one line
/// per remains with its status at that time.
pub fn forensic_report(case: &Case, as_of: Moment, area: Option<&Place>) -> String {
    let c = case_counts(case, as_of, area);
    let mut out = notice(case);
    out.push_str(&format!("Forensic report — case {}\n", case.id));
    out.push_str(&format!("{}\n", c.headline()));
    for s in Status::ALL {
        if let Some(n) = c.by_status.get(&s) {
            out.push_str(&format!("  {:<20} {n}\n", s.as_str()));
        }
    }
    if !c.uncertain.is_empty() {
        let t: Vec<String> = c.uncertain.iter().map(|t| t.to_string()).collect();
        out.push_str(&format!(
            "  status uncertain at this time (a dated step straddles it): {}\n",
            t.join(", ")
        ));
    }
    if !c.partly_in_area.is_empty() {
        let t: Vec<String> = c.partly_in_area.iter().map(|t| t.to_string()).collect();
        out.push_str(&format!(
            "  recovered partly outside the area, not counted: {}\n",
            t.join(", ")
        ));
    }
    out.push('\n');
    for r in case.remains.values() {
        let st = match r.status_at(as_of) {
            StatusAt::NotYetRecovered => continue,
            StatusAt::Known(s) => s.to_string(),
            StatusAt::Uncertain(Some(s)) => format!("{s} (uncertain)"),
            StatusAt::Uncertain(None) => "possibly recovered".into(),
        };
        out.push_str(&format!(
            "  {:<14} {:<28} recovered {} at {}{}\n",
            r.tag,
            st,
            r.recovery.time,
            r.recovery.place.short(),
            if r.synthetic { " [synthetic]" } else { "" }
        ));
    }
    out
}

/// Claim-check results, with each pair that bears on the claim.
pub fn claim_results(case: &Case, results: &[ClaimResult]) -> String {
    let mut out = notice(case);
    for r in results {
        out.push_str(&format!(
            "{} — {}\n  claim by {}: {}\n  predicate: {}\n  result: {} ({})\n  version: {}\n",
            r.claim,
            r.summary.as_str().to_uppercase(),
            r.made_by,
            r.assertion,
            r.predicate,
            r.summary,
            r.summary_reason,
            r.version()
        ));
        for p in r
            .pairs
            .iter()
            .filter(|p| p.relation != Relation::NotApplicable)
        {
            let who = p
                .evidence
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "case records".into());
            out.push_str(&format!("    {who}: {} — {}\n", p.relation, p.reason));
            for a in &p.arithmetic {
                out.push_str(&format!("        {a}\n"));
            }
            for d in &p.depends_on {
                out.push_str(&format!("        depends on: {d}\n"));
            }
        }
        let na = r
            .pairs
            .iter()
            .filter(|p| p.relation == Relation::NotApplicable)
            .count();
        out.push_str(&format!("    ({na} item(s) not applicable)\n"));
        let signed: Vec<String> = case
            .signoffs
            .iter()
            .filter(|s| s.claim == r.claim)
            .map(|s| {
                let current = if s.result_version == r.version() {
                    "this version"
                } else {
                    "an earlier version"
                };
                format!("{} at {} ({current})", s.by, s.at)
            })
            .collect();
        if !signed.is_empty() {
            out.push_str(&format!("    signed off by {}\n", signed.join("; ")));
        }
        out.push('\n');
    }
    out
}
