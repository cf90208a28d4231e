//! Prints the demo case as a case JSON document, its remains CSV and its reports.
fn main() {
    let d = custody_cases::demo::bucha().expect("the shipped demo maps cleanly");
    match std::env::args().nth(1).as_deref() {
        Some("csv") => print!("{}", custody_cases::exchange::export_remains_csv(&d.case)),
        Some("items") => print!("{}", custody_cases::exchange::export_items_csv(&d.case)),
        Some("claims") => print!(
            "{}",
            custody_cases::render::claim_results(&d.case, &d.check())
        ),
        Some("forensic") => {
            let as_of = std::env::args()
                .nth(2)
                .unwrap_or_else(|| "2022-04-03T23:59:59+03:00".into());
            print!(
                "{}",
                custody_cases::render::forensic_report(
                    &d.case,
                    as_of.parse().expect("RFC 3339 time"),
                    None
                )
            )
        }
        _ => print!("{}", custody_cases::exchange::export_json(&d.case)),
    }
}
