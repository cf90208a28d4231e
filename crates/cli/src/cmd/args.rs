//! Flags shared by the case commands (times, places, the case) and the common way of
//! running a change and printing what it recorded.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use custody_app::cases::input::{PlaceInput, TimeInput};
use custody_app::cases::model::{Case, Command};
use custody_app::cases::{self, Recorded};
use custody_app::{Mode, Vault};

use crate::cli::Cli;
use crate::run::{finish_write, open, print_json};

/// The case a command works on.
#[derive(Args, Debug, Clone)]
pub struct CaseArg {
    /// The case (e.g. BUCHA-2022-01). Defaults to $CUSTODY_CASE.
    #[arg(long, env = "CUSTODY_CASE", value_name = "CASE")]
    pub case: String,
}

/// When something happened or held: a day, an instant, or an interval, with its basis.
#[derive(Args, Debug, Clone, Default)]
pub struct TimeArgs {
    /// A date (the whole day at the case's UTC offset) or an RFC 3339 instant (taken as
    /// exact), e.g. 2022-04-03 or 2022-04-03T10:15:00+03:00.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
    /// Earliest time of an interval (date = start of that day), with --to.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub from: Option<String>,
    /// Latest time of an interval (date = end of that day), with --from.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub to: Option<String>,
    /// Where the time comes from ("autopsy report", "provider acquisition date"). Default:
    /// a sentence naming you as the one who entered it.
    #[arg(long, value_name = "TEXT")]
    pub basis: Option<String>,
}

impl TimeArgs {
    pub fn input(&self) -> TimeInput {
        TimeInput {
            at: self.at.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            basis: self.basis.clone(),
        }
    }
}

/// Where: a named place of the case, or a disc with its uncertainty, with its basis.
#[derive(Args, Debug, Clone, Default)]
pub struct PlaceArgs {
    /// A named place of the case (`custody place add`), e.g. PL-YABLUNSKA.
    #[arg(long, value_name = "PL-REF")]
    pub place: Option<String>,
    /// Latitude of the centre, decimal degrees (WGS84), with --lon and --radius-m.
    #[arg(long, allow_negative_numbers = true)]
    pub lat: Option<f64>,
    /// Longitude of the centre, decimal degrees (WGS84).
    #[arg(long, allow_negative_numbers = true)]
    pub lon: Option<f64>,
    /// Uncertainty radius in metres: a place is always an area.
    #[arg(long, value_name = "METRES")]
    pub radius_m: Option<f64>,
    /// Where the position comes from ("GNSS handheld", "geolocated from street
    /// features"). Default: a sentence naming you as the one who entered it.
    #[arg(long, value_name = "TEXT")]
    pub place_basis: Option<String>,
}

impl PlaceArgs {
    pub fn input(&self) -> PlaceInput {
        PlaceInput {
            place: self.place.clone(),
            lat: self.lat,
            lon: self.lon,
            radius_m: self.radius_m,
            polygon: None,
            margin_m: None,
            basis: self.place_basis.clone(),
        }
    }
}

/// Prints what a change recorded: one line per ledger entry, or JSON.
pub fn print_recorded(cli: &Cli, r: &Recorded) -> Result<()> {
    if cli.json {
        print_json(r)?;
    } else {
        for e in &r.entries {
            outln!("ledger entry {:<6} {:<34} {}", e.seq, e.action, e.summary);
        }
    }
    Ok(())
}

/// Opens the vault for writing, runs `f`, stamps if due, closes, and prints.
pub async fn write<F, Fut>(cli: &Cli, actor: &str, f: F) -> Result<ExitCode>
where
    F: FnOnce(Vault) -> Fut,
    Fut: std::future::Future<Output = (Vault, custody_app::Result<Recorded>)>,
{
    let vault = open(cli, Mode::Write, actor).await?;
    let (vault, result) = f(vault).await;
    let result = finish_write(vault, result).await;
    print_recorded(cli, &result?)?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the case, builds commands from it (`build` sees the case, for its offset and
/// places), validates and commits them, and prints the entries written.
pub async fn change<F>(cli: &Cli, actor: &str, case: &str, build: F) -> Result<ExitCode>
where
    F: FnOnce(&Case) -> Result<Vec<Command>>,
{
    let vault = open(cli, Mode::Write, actor).await?;
    let result: Result<Recorded> = async {
        let c = cases::load(&vault, case).await?;
        let cmds = build(&c)?;
        Ok(cases::execute_on(&vault, &c, cmds).await?)
    }
    .await;
    let result = finish_write(vault, result).await;
    print_recorded(cli, &result?)?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the vault read-only and loads a case.
pub async fn read_case(cli: &Cli, actor: &str, case: &str) -> Result<(Vault, Case)> {
    let vault = open(cli, Mode::Read, actor).await?;
    match cases::load(&vault, case).await {
        Ok(c) => Ok((vault, c)),
        Err(e) => {
            vault.close().await;
            Err(e.into())
        }
    }
}

/// A label argument (`EV-04`, `R-0007`, `INC-0001`), with the model's message when bad.
pub fn label<T>(s: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(s.trim().parse::<T>()?)
}

/// `by` defaults to the actor.
pub fn by(given: &Option<String>, actor: &str) -> String {
    given
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(actor)
        .to_owned()
}
