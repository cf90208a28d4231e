//! Metadata extraction as part of the vault: on ingest, `extract --all`, `extract ITEM`,
//! `show`, and the geographic export. Real camera files and C2PA samples come from ../shared/testdata.

use crate::support::*;

fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(rel);
    p.exists().then_some(p)
}

fn reference(file: &str) -> serde_json::Value {
    let path = shared("exif/reference-exiftool.json").unwrap();
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter()
        .find(|r| r["SourceFile"] == format!("./{file}"))
        .expect("file in reference")
}

#[test]
fn ingest_extracts_clocks_position_device_and_content_credentials() {
    let (Some(gps), Some(xca), Some(c), Some(corrupt)) = (
        shared("exif/jpg/gps/DSCN0010.jpg"),
        shared("c2pa/XCA.jpg"),
        shared("c2pa/C.jpg"),
        shared("exif/jpg/corrupted.jpg"),
    ) else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let env = Env::new();
    env.init();
    for p in [&gps, &xca, &c, &corrupt] {
        Run::of(
            env.command()
                .args(["--vault", "vault", "ingest", "--case", "T"])
                .arg(p),
        )
        .ok();
    }
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let m = &shown["metadata"];
    assert_eq!(m["extractor"], "custody-extract");
    let r = reference("jpg/gps/DSCN0010.jpg");
    let pos = &m["positions"][0];
    assert!(
        (pos["latitude"].as_f64().unwrap() - r["GPS:GPSLatitude"].as_f64().unwrap()).abs() < 1e-6
    );
    assert!(
        (pos["longitude"].as_f64().unwrap() - r["GPS:GPSLongitude"].as_f64().unwrap()).abs() < 1e-6
    );
    assert_eq!(m["device"]["model"]["value"], r["IFD0:Model"]);
    // The camera clock has no offset: it is a local time, never given a UTC value.
    let dto = m["times"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "exif.DateTimeOriginal")
        .unwrap();
    assert_eq!(dto["basis"], "local_unknown_offset");
    assert!(dto.get("utc").is_none());
    assert_eq!(dto["original"], r["ExifIFD:DateTimeOriginal"]);
    // ...and the GPS clock a day later is shown as a disagreement.
    assert!(m["notes"].as_array().unwrap().iter().any(|n| {
        n["text"]
            .as_str()
            .unwrap()
            .contains("disagree whatever the offset")
    }));
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("local time, offset unknown: not UTC"),
        "{human}"
    );
    assert!(human.contains("COOLPIX P6000"), "{human}");

    // Content credentials: tampered content is invalid, an intact chain is valid.
    let xca = env.run(&["show", "ITM-000002", "--json"]).ok().json();
    assert_eq!(xca["metadata"]["c2pa"]["state"], "invalid");
    let codes: Vec<&str> = xca["metadata"]["c2pa"]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"assertion.dataHash.mismatch"), "{codes:?}");
    let c = env.run(&["show", "ITM-000003", "--json"]).ok().json();
    assert_eq!(c["metadata"]["c2pa"]["state"], "valid");
    // The signer's time is shown beside the state, as in the JSON.
    let t = c["metadata"]["c2pa"]["signing_time"]
        .as_str()
        .expect("C.jpg's claim carries a signing time");
    let human = env.run(&["show", "ITM-000003"]).ok().stdout;
    assert!(human.contains(&format!("signing time {t}")), "{human}");

    // A corrupt file: the record says what could not be read, the bytes are kept exactly.
    let bad = env.run(&["show", "ITM-000004", "--json"]).ok().json();
    assert!(
        bad["metadata"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().unwrap().starts_with("could not extract: "))
    );
    env.run(&["get", "ITM-000004", "--out", "back.jpg"]).ok();
    assert_eq!(
        std::fs::read(env.path("back.jpg")).unwrap(),
        std::fs::read(&corrupt).unwrap()
    );

    // Each extraction is a ledger entry naming the extractor and its version.
    let entry = env
        .run(&["log", "entry", &shown["history"][1]["seq"].to_string()])
        .ok()
        .json();
    assert_eq!(entry["action"], "metadata.extracted");
    assert_eq!(entry["details"]["extractor"], "custody-extract");
    assert!(entry["details"]["extractor_version"].is_string());
    env.run(&["verify", "--full"]).ok();
}

#[test]
fn extract_all_catches_up_and_records_each_extraction() {
    let env = Env::new();
    env.init();
    env.write("a.txt", b"synthetic note\n");
    env.write("b.pdf", b"%PDF-1.4\n1 0 obj << /Title (Demo report) /Producer (synthetic) >> endobj\ntrailer << /Info 1 0 R >>\n%%EOF\n");
    env.run(&["ingest", "a.txt", "b.pdf"]).ok();
    let r = env.run(&["extract", "--all", "--json"]).ok().json();
    assert_eq!(
        (
            r["blobs"].as_u64(),
            r["extracted"].as_u64(),
            r["up_to_date"].as_u64()
        ),
        (Some(2), Some(0), Some(2))
    );
    let r = env
        .run(&["extract", "--all", "--force", "--json"])
        .ok()
        .json();
    assert_eq!(r["extracted"], 2);
    let size = ledger_size(&env);
    let last = env
        .run(&["log", "entry", &(size - 1).to_string()])
        .ok()
        .json();
    assert_eq!(last["action"], "metadata.extracted");
    env.run(&["verify"]).ok();
    let missing = env.run(&["extract"]);
    assert_eq!(missing.code, 2, "an item or --all is required");
}

/// What a file says is shown, never obeyed: a PDF title that would erase the line and
/// forge another, or reverse the text after it, is written visibly in `show`, and kept
/// as it is in `--json`.
#[test]
fn show_writes_what_files_say_visibly() {
    let env = Env::new();
    env.init();
    env.write(
        "odd.pdf",
        // UTF-16 (PDF text strings): "x ESC [2K CR forged LF  tiem" and "RLO gpj".
        b"%PDF-1.4\n1 0 obj << /Title <FEFF0078001B005B0032004B000D0066006F0072006700650064000A00200020007400690065006D> /Producer <FEFF202E00670070006A> >> endobj\ntrailer << /Info 1 0 R >>\n%%EOF\n",
    );
    env.run(&["ingest", "odd.pdf"]).ok();
    let text = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert!(!text.contains('\u{202e}'), "{text:?}");
    assert!(
        text.contains("x\\u{1b}[2K\\u{d}forged\\u{a}  tiem"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("  tiem")), "{text}");
    assert!(text.contains("\\u{202e}gpj"), "{text}");
    let json = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let title = json["metadata"]["pdf"]["title"]
        .as_str()
        .unwrap_or_default();
    assert!(title.contains("\u{1b}[2K\r"), "{json}");
}

/// How many entries the ledger holds (the size of its latest checkpoint).
fn ledger_size(env: &Env) -> u64 {
    let sizes = env.run(&["log", "checkpoints", "--json"]).ok().json();
    sizes.as_array().unwrap().last().unwrap().as_u64().unwrap()
}

#[test]
fn extract_one_item_by_id_or_digest_prefix() {
    let (Some(gps), Some(other)) = (
        shared("exif/jpg/gps/DSCN0010.jpg"),
        shared("exif/jpg/gps/DSCN0012.jpg"),
    ) else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let env = Env::new();
    env.init();
    Run::of(
        env.command()
            .args(["--vault", "vault", "ingest", "--no-extract"])
            .arg(&gps)
            .arg(&other),
    )
    .ok();
    let first = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert!(first["metadata"].is_null(), "ingested without extraction");
    let name = first["item"]["original_name"].as_str().unwrap().to_owned();
    let sha = first["item"]["sha256"].as_str().unwrap().to_owned();
    let before = ledger_size(&env);

    // An item the vault does not hold: the error names it, nothing is recorded.
    let unknown = env.run(&["extract", "ITM-000099"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("no item matches \"ITM-000099\"; `custody list` shows the items"),
        "{}",
        unknown.stderr
    );
    assert_eq!(unknown.stdout, "");
    assert_eq!(ledger_size(&env), before, "nothing written");

    // By SHA-256 prefix, as `show` takes it: one extraction, one ledger entry.
    let r = env.run(&["extract", &sha[..12], "--json"]).ok().json();
    assert_eq!(r["item"], "ITM-000001", "{r}");
    assert_eq!(
        (
            r["blobs"].as_u64(),
            r["extracted"].as_u64(),
            r["up_to_date"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(ledger_size(&env), before + 1);
    let entry = env.run(&["log", "entry", &before.to_string()]).ok().json();
    assert_eq!(entry["action"], "metadata.extracted");
    assert_eq!(entry["item"], "ITM-000001");
    assert_eq!(entry["sha256"], sha.as_str());
    assert_eq!(entry["details"]["extractor"], r["extractor"]);
    assert_eq!(entry["details"]["extractor_version"], r["version"]);
    // The record is the one ingest would have made: the camera's position.
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let reference = reference(&format!("jpg/gps/{name}"));
    let pos = &shown["metadata"]["positions"][0];
    assert!(
        (pos["latitude"].as_f64().unwrap() - reference["GPS:GPSLatitude"].as_f64().unwrap()).abs()
            < 1e-6,
        "{pos}"
    );
    // Only the item asked for was examined.
    let second = env.run(&["show", "ITM-000002", "--json"]).ok().json();
    assert!(second["metadata"].is_null());

    // Again, by id: up to date, said on standard error, nothing recorded.
    let again = env.run(&["extract", "ITM-000001"]).ok();
    assert!(
        again.stdout.contains(": ITM-000001 already up to date;"),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stderr
            .contains("the bytes of ITM-000001 already have a record of custody-extract"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(ledger_size(&env), before + 1);

    // --force extracts again: a second entry for the same item.
    let forced = env.run(&["extract", "ITM-000001", "--force"]).ok();
    assert!(
        forced.stdout.contains(": ITM-000001 extracted;"),
        "{}",
        forced.stdout
    );
    assert!(!forced.stderr.contains("already"), "{}", forced.stderr);
    assert_eq!(ledger_size(&env), before + 2);
    let entry = env
        .run(&["log", "entry", &(before + 1).to_string()])
        .ok()
        .json();
    assert_eq!(entry["action"], "metadata.extracted");
    assert_eq!(entry["item"], "ITM-000001");

    // One item or --all, exactly one of them.
    let both = env.run(&["extract", "ITM-000002", "--all"]);
    both.refused("cannot be used with '--all'");
    let neither = env.run(&["extract", "--force"]);
    neither.refused("<ITEM|--all>");
    assert_eq!(ledger_size(&env), before + 2, "nothing written");
    env.run(&["verify", "--full"]).ok();
}

#[test]
fn positions_export_as_geojson_kml_and_csv() {
    let Some(gps) = shared("exif/jpg/gps/DSCN0012.jpg") else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let env = Env::new();
    env.init();
    env.write("note.txt", b"no position here\n");
    let out = env
        .command()
        .args(["--vault", "vault", "ingest", "--case", "GEO", "note.txt"])
        .arg(&gps)
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = reference("jpg/gps/DSCN0012.jpg");
    let geo: serde_json::Value =
        serde_json::from_str(&env.run(&["export-geo", "--case", "GEO"]).ok().stdout).unwrap();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "only positioned items");
    let coords = &features[0]["geometry"]["coordinates"];
    assert!((coords[0].as_f64().unwrap() - r["GPS:GPSLongitude"].as_f64().unwrap()).abs() < 1e-6);
    assert!((coords[1].as_f64().unwrap() - r["GPS:GPSLatitude"].as_f64().unwrap()).abs() < 1e-6);
    assert_eq!(features[0]["properties"]["item"], "ITM-000002");
    // The capture clock in ISO 8601 with its source and basis, and the GPS receiver's
    // own time beside it: never a modification time, never merged.
    let props = &features[0]["properties"];
    assert_eq!(props["capture_source"], "exif.DateTimeOriginal");
    assert_eq!(props["capture_basis"], "local_unknown_offset");
    let local = r["ExifIFD:DateTimeOriginal"].as_str().unwrap();
    let iso = format!("{}T{}", local[..10].replace(':', "-"), &local[11..]);
    assert_eq!(props["capture_local"], iso.as_str());
    assert!(props["capture_utc"].is_null(), "no offset recorded: no UTC");
    assert!(
        props["gps_time_utc"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{props}"
    );
    // The GPS clock a day after the camera's is carried with the position.
    assert!(
        props["clock_notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("disagree whatever the offset")),
        "{props}"
    );
    // An unknown case is an error, not an empty map.
    let none = env.run(&["export-geo", "--case", "NOPE", "--out", "none.geojson"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr
            .contains("no case \"NOPE\" was opened and no items are filed under it"),
        "{}",
        none.stderr
    );
    assert!(!env.path("none.geojson").exists(), "nothing written");
    // A name that differs only in letter case is pointed out.
    let lower = env.run(&["export-geo", "--case", "geo"]);
    assert_eq!(lower.code, 2, "{}", lower.stderr);
    assert!(
        lower.stderr.contains("did you mean \"GEO\"?"),
        "{}",
        lower.stderr
    );
    // A case opened but holding no items yet is an empty map, not an error.
    env.run(&["case", "open", "EMPTY", "--title", "Nothing filed yet"])
        .ok();
    let empty = env.run(&["export-geo", "--case", "EMPTY"]).ok().json();
    assert_eq!(empty["type"], "FeatureCollection", "{empty}");
    assert_eq!(empty["features"], serde_json::json!([]), "{empty}");
    let clusters = env
        .run(&["clusters", "--case", "EMPTY", "--json"])
        .ok()
        .json();
    assert_eq!(clusters["clusters"], serde_json::json!([]), "{clusters}");
    // `-o -` is standard output, not a file named "-".
    let csv = env
        .run(&["export-geo", "--case", "GEO", "--format", "csv", "-o", "-"])
        .ok();
    assert!(csv.stdout.starts_with("item,"), "{}", csv.stdout);
    assert!(!env.path("-").exists(), "no file named -");

    let kml = env
        .run(&["export-geo", "--case", "GEO", "--format", "kml"])
        .ok()
        .stdout;
    assert!(
        kml.contains("<Placemark>") && kml.contains("<name>ITM-000002</name>"),
        "{kml}"
    );
    env.run(&["export-geo", "--format", "csv", "--out", "items.csv"])
        .ok();
    let csv = std::fs::read_to_string(env.path("items.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("item,name,sha256,media_type,case,latitude,longitude")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("ITM-000002,DSCN0012.jpg,")
    );
    let again = env.run(&["export-geo", "--format", "csv", "--out", "items.csv"]);
    assert_eq!(again.code, 2, "an existing file is not replaced");
    assert!(
        again
            .stderr
            .contains("it already exists and is never replaced"),
        "{}",
        again.stderr
    );
    let parts: Vec<_> = std::fs::read_dir(env.path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(
        parts.is_empty(),
        "no temporary file is left behind: {parts:?}"
    );
    let summary = env
        .run(&[
            "export-geo",
            "--case",
            "GEO",
            "--format",
            "kml",
            "--out",
            "geo.kml",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(summary["positioned"], 1, "{summary}");
    assert_eq!(summary["items"], 2, "the note has no position: {summary}");
    assert_eq!(summary["path"], "geo.kml");
    let nowhere = env.run(&["export-geo", "--out", "no/such/folder/items.geojson"]);
    nowhere.refused("its folder does not exist");
}

/// `--json` describes the file written with `--out`. Without `--out`, a GeoJSON document
/// is JSON itself and is allowed; KML or CSV would not be, so the command refuses.
/// A file stating two positions far apart (EXIF GPS and XMP) is exported as two points,
/// each with its source and a note saying how far apart they are; a file name with a
/// control character leaves the KML well-formed.
#[test]
fn every_position_of_a_file_is_exported_and_kml_stays_well_formed() {
    let Some(gps) = shared("exif/jpg/gps/DSCN0012.jpg") else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let jpeg = std::fs::read(gps).unwrap();
    let xmp = concat!(
        "http://ns.adobe.com/xap/1.0/\0",
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#,
        r#"<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="50,27.0N" exif:GPSLongitude="30,31.5E"/>"#,
        "</rdf:RDF></x:xmpmeta>"
    );
    let mut both = jpeg[..2].to_vec();
    both.extend_from_slice(&[0xFF, 0xE1]);
    both.extend_from_slice(&((xmp.len() + 2) as u16).to_be_bytes());
    both.extend_from_slice(xmp.as_bytes());
    both.extend_from_slice(&jpeg[2..]);
    let env = Env::new();
    env.init();
    env.write("in/two\u{1b}places.jpg", &both);
    env.run(&["ingest", "--case", "GEO", "in"]).ok();
    let geo = env.run(&["export-geo", "--case", "GEO"]).ok().json();
    let features = geo["features"].as_array().unwrap();
    let sources: Vec<&str> = features
        .iter()
        .map(|f| f["properties"]["position_source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["exif.gps", "xmp.exif"], "{geo}");
    let xmp_point = &features[1]["geometry"]["coordinates"];
    assert!(
        (xmp_point[0].as_f64().unwrap() - 30.525).abs() < 1e-9,
        "{geo}"
    );
    assert!(
        (xmp_point[1].as_f64().unwrap() - 50.45).abs() < 1e-9,
        "{geo}"
    );
    for f in features {
        let notes = f["properties"]["position_notes"].as_array().unwrap();
        assert!(
            notes.iter().any(|n| {
                let n = n.as_str().unwrap();
                n.contains("exif.gps and xmp.exif state positions") && n.contains(" km apart")
            }),
            "{f}"
        );
    }
    let kml = env
        .run(&["export-geo", "--case", "GEO", "--format", "kml"])
        .ok()
        .stdout;
    assert_eq!(kml.matches("<Placemark>").count(), 2, "{kml}");
    assert!(kml.contains("two\\u{1b}places.jpg"), "{kml}");
    assert!(
        !kml.chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')),
        "no character XML forbids: {kml:?}"
    );
}

/// `show` says what `export-geo` says of degrees on another datum than WGS 84: a map
/// would put them in the wrong place.
#[test]
fn show_warns_of_a_position_on_another_datum() {
    let Some(gps) = shared("exif/jpg/gps/DSCN0012.jpg") else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let jpeg = std::fs::read(gps).unwrap();
    let at = jpeg
        .windows(9)
        .position(|w| w == b"WGS-84   ")
        .expect("the sample states its datum");
    let mut tokyo = jpeg.clone();
    tokyo[at..at + 9].copy_from_slice(b"TOKYO    ");
    let env = Env::new();
    env.init();
    env.write("tokyo.jpg", &tokyo);
    env.write("wgs84.jpg", &jpeg);
    env.run(&["ingest", "tokyo.jpg", "wgs84.jpg"]).ok();
    let shown = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        shown.contains("note: exif.gps: the coordinates are on the datum the file states, TOKYO"),
        "{shown}"
    );
    let shown = env.run(&["show", "ITM-000002"]).ok().stdout;
    assert!(shown.contains("  position  "), "{shown}");
    assert!(!shown.contains("the datum the file states"), "{shown}");
}

#[test]
fn export_geo_json_without_out_is_for_geojson_only() {
    let env = Env::new();
    env.init();
    env.write("note.txt", b"no position here\n");
    env.run(&["ingest", "note.txt"]).ok();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(env.path(""))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = files();
    for (format, name) in [("kml", "KML"), ("csv", "CSV")] {
        let r = env.run(&["export-geo", "--format", format, "--json"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "--json describes a file written with --out; give --out FILE, or drop --json to write the {name} to standard output"
            )),
            "{}",
            r.stderr
        );
        // Standard output carries the error as JSON, as for every failed command, and
        // no document.
        let out = r.json();
        assert!(
            out["error"].as_str().unwrap().contains("--out FILE"),
            "{out}"
        );
        assert_eq!(files(), before, "nothing written");
    }
    let geo = env
        .run(&["export-geo", "--format", "geojson", "--json"])
        .ok()
        .json();
    assert_eq!(geo["type"], "FeatureCollection");
    env.run(&[
        "export-geo",
        "--format",
        "kml",
        "--json",
        "--out",
        "geo.kml",
    ])
    .ok();
    assert!(env.path("geo.kml").exists());
}

/// Derived data is filed under a digest, so it is only taken from those very bytes: a
/// stored copy that is missing or altered is reported, and nothing is recorded for it.
#[test]
fn extraction_refuses_stored_bytes_that_are_not_the_item() {
    let env = Env::new();
    env.init();
    let notes = [
        b"first field note".as_slice(),
        b"second field note",
        b"third field note",
    ];
    for (i, text) in notes.iter().enumerate() {
        let p = env.write(&format!("in/note{i}.txt"), text);
        Run::of(
            env.command()
                .args(["--vault", "vault", "ingest", "--no-extract"])
                .arg(p),
        )
        .ok();
    }
    let before = ledger_size(&env);
    // Same length, other bytes; and a copy that is gone.
    let altered = blob_path(&env.path("vault"), &sha256_hex(notes[0]));
    make_writable(&altered);
    std::fs::write(&altered, b"FIRST field note").unwrap();
    std::fs::remove_file(blob_path(&env.path("vault"), &sha256_hex(notes[1]))).unwrap();
    // And a copy with bytes added after the collected ones.
    let longer = blob_path(&env.path("vault"), &sha256_hex(notes[2]));
    make_writable(&longer);
    std::fs::write(&longer, b"third field note, and more").unwrap();

    let one = env.run(&["extract", "ITM-000001"]);
    assert_eq!(one.code, 1, "{}", one.stderr);
    assert!(
        one.stderr.contains(&format!(
            "error: ITM-000001 ({}): its stored copy has SHA-256 {}, not the collected",
            sha256_hex(notes[0]),
            sha256_hex(b"FIRST field note")
        )) && one.stderr.contains("`custody verify --full`"),
        "{}",
        one.stderr
    );
    let all = env.run(&["extract", "--all", "--json"]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    let report = all.json();
    assert_eq!(report["extracted"], 0, "{report}");
    let damaged = report["damaged"].as_array().unwrap();
    assert_eq!(damaged.len(), 3, "{report}");
    assert_eq!(damaged[1]["item"], "ITM-000002");
    assert_eq!(
        damaged[2]["why"], "its stored copy is 26 bytes long where 16 were collected",
        "{report}"
    );
    assert!(
        damaged[1]["why"]
            .as_str()
            .unwrap()
            .starts_with("its stored bytes cannot be read"),
        "{report}"
    );
    assert_eq!(ledger_size(&env), before, "nothing recorded");
}

/// A satellite image delivered as a GeoTIFF in UTM is shown with its georeference and
/// put on the map at its centre; one in a system not converted says why it is not.
#[test]
fn georeferenced_rasters_are_shown_and_exported_by_their_centre() {
    use custody_testkit::data::{GeoTiffSpec, geotiff};
    let env = Env::new();
    env.init();
    // 1,000 × 500 pixels of 2 m in UTM zone 35N, centre at easting 302 000, northing
    // 5 601 000 (50.527403189° N, 24.206335531° E by PROJ).
    env.write(
        "sat/utm.tif",
        &geotiff(&GeoTiffSpec {
            width: 1000,
            height: 500,
            pixel_scale: Some([2.0, 2.0, 0.0]),
            tiepoint: Some([0.0, 0.0, 0.0, 301_000.0, 5_601_500.0, 0.0]),
            transformation: None,
            keys: vec![(1024, 1), (1025, 1), (3072, 32635)],
        }),
    );
    env.write(
        "sat/lambert.tif",
        &geotiff(&GeoTiffSpec {
            width: 4,
            height: 4,
            pixel_scale: Some([10.0, 10.0, 0.0]),
            tiepoint: Some([0.0, 0.0, 0.0, 5_000_000.0, 3_000_000.0, 0.0]),
            transformation: None,
            keys: vec![(1024, 1), (3072, 3035)],
        }),
    );
    env.run(&["ingest", "--case", "SAT", "sat"]).ok();
    let items = env.run(&["list", "--json"]).ok().json();
    let id_of = |name: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["original_name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let shown = env.run(&["show", &id_of("utm.tif")]).ok().stdout;
    assert!(
        shown.contains("georeference  projected, EPSG:32635; tie point 0 0 0 301000 5601500 0; pixel size 2 2 0"),
        "{shown}"
    );
    assert!(
        shown.contains("position      50.527403, 24.206336 (geotiff.centre)"),
        "{shown}"
    );
    let other = env.run(&["show", &id_of("lambert.tif")]).ok().stdout;
    assert!(
        other.contains("georeference  projected, EPSG:3035"),
        "{other}"
    );
    assert!(
        other.contains(
            "not placed on the map: projected system EPSG:3035 is not one converted here"
        ),
        "{other}"
    );

    let geo = env.run(&["export-geo", "--case", "SAT"]).ok().json();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "{geo}");
    let c = &features[0]["geometry"]["coordinates"];
    assert!(
        (c[0].as_f64().unwrap() - 24.206_335_531).abs() < 1e-8,
        "{c}"
    );
    assert!(
        (c[1].as_f64().unwrap() - 50.527_403_189).abs() < 1e-8,
        "{c}"
    );
    assert_eq!(
        features[0]["properties"]["position_source"],
        "geotiff.centre"
    );
}

/// A C2PA claim's RFC 3161 time-stamp counts as attested once the vault holds its TSA's
/// root, and not before: the shared fixtures carry DigiCert tokens, checked here against
/// DigiCert Trusted Root G4 from the system's certificate store.
#[test]
fn a_claims_time_stamp_is_attested_once_the_vault_holds_its_tsas_root() {
    let (Some(c), Some(ca), Some(xca)) = (
        shared("c2pa/C.jpg"),
        shared("c2pa/CA.jpg"),
        shared("c2pa/XCA.jpg"),
    ) else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let root = std::path::Path::new("/etc/ssl/certs/DigiCert_Trusted_Root_G4.pem");
    if !root.exists() {
        eprintln!(
            "skipped: {} not found (install ca-certificates)",
            root.display()
        );
        return;
    }
    let env = Env::new();
    env.init();
    for p in [&c, &ca, &xca] {
        Run::of(
            env.command()
                .args(["--vault", "vault", "ingest", "--case", "T"])
                .arg(p),
        )
        .ok();
    }
    let stamp =
        |item: &str| env.run(&["show", item, "--json"]).ok().json()["c2pa_time_stamp"].take();
    let earliest = || {
        let clusters = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
        let found = clusters
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["members"].as_array().unwrap().len() >= 2)
            .unwrap_or_else(|| panic!("C.jpg and CA.jpg show one picture: {clusters}"))
            .clone();
        found["earliest"].clone()
    };

    // No roots: the token is read, but nothing says who signed it.
    let before = stamp("ITM-000001");
    assert_eq!(before["verified"], false, "{before}");
    assert_eq!(before["gen_time"], "2024-08-06T21:53:37Z", "{before}");
    assert_eq!(before["covers"], "claim", "{before}");
    let why = before["reason"].as_str().unwrap();
    assert!(why.contains("custody timestamp --roots"), "{why}");
    let e = earliest();
    assert_ne!(e["basis"], "attested", "{e}");

    // The TSA's root: the claim's time is attested, and wins the cluster.
    Run::of(
        env.command()
            .args(["--vault", "vault", "timestamp", "--roots"])
            .arg(root),
    )
    .ok();
    // Given again: nothing added, and said so (to scripts too).
    let again = Run::of(
        env.command()
            .args(["--vault", "vault", "--json", "timestamp", "--roots"])
            .arg(root),
    )
    .ok();
    assert!(
        again.stderr.contains("already among the TSA roots"),
        "{}",
        again.stderr
    );
    assert_eq!(again.json()["roots_added"], 0, "{}", again.stdout);
    let after = stamp("ITM-000001");
    assert_eq!(after["verified"], true, "{after}");
    assert!(
        after["tsa"]
            .as_str()
            .unwrap()
            .contains("DigiCert Timestamp 2023"),
        "{after}"
    );
    let e = earliest();
    assert_eq!(e["basis"], "attested", "{e}");
    assert!(
        e["source"]
            .as_str()
            .unwrap()
            .contains("C2PA claim's RFC 3161 time-stamp from"),
        "{e}"
    );
    assert!(
        e["at"].as_str().unwrap().starts_with("2024-08-06T21:53:37"),
        "{e}"
    );
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("C2PA time-stamp 2024-08-06T21:53:37Z from")
            && human.contains("the claim, and the bytes it binds, existed then"),
        "{human}"
    );
    // Altered pixels under an intact claim: the token still dates the claim, and says
    // it is not these bytes' time.
    let human = env.run(&["show", "ITM-000003"]).ok().stdout;
    assert!(
        human.contains("it dates the claim, not these bytes"),
        "{human}"
    );
    assert_eq!(after["dates_these_bytes"], true, "{after}");
    let altered = stamp("ITM-000003");
    assert_eq!(
        (&altered["verified"], &altered["dates_these_bytes"]),
        (&serde_json::json!(true), &serde_json::json!(false)),
        "{altered}"
    );

    // A damaged roots file takes no trust away (the ledger holds the roots): items and
    // clusters still verify; --roots refuses, naming the file, and leaves it as it was.
    let roots_file = env.path("vault/keys/tsa-roots.pem");
    let mut damaged = std::fs::read(&roots_file).unwrap();
    damaged.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    std::fs::write(&roots_file, &damaged).unwrap();
    assert_eq!(stamp("ITM-000001")["verified"], true);
    env.run(&["clusters"]).ok();
    let r = Run::of(
        env.command()
            .args(["--vault", "vault", "timestamp", "--roots"])
            .arg(root),
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("tsa-roots.pem is not usable") && r.stderr.contains("move it aside"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("vault.json"), "{}", r.stderr);
    assert_eq!(std::fs::read(&roots_file).unwrap(), damaged);
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("tsa-roots.pem cannot be read"),
        "{}",
        v.stdout
    );

    // Moved aside, the root given again in DER (as `openssl x509 -outform DER` writes it).
    std::fs::remove_file(&roots_file).unwrap();
    let der = env.path("root.der");
    let converted = std::process::Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(root)
        .arg("-out")
        .arg(&der)
        .status();
    if converted.is_ok_and(|s| s.success()) {
        Run::of(
            env.command()
                .args(["--vault", "vault", "timestamp", "--roots"])
                .arg(&der),
        )
        .ok();
        assert_eq!(stamp("ITM-000001")["verified"], true);
        // Already recorded: the file is written again from the ledger.
        assert!(
            std::fs::read_to_string(&roots_file)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        env.run(&["verify"]).ok();
    } else {
        eprintln!("skipped the DER part: openssl not found");
    }
}

/// `show` gives a clock with a recorded offset as UTC and as the local time it was
/// where it was taken (day or night there), and a turn the file asks for beside its
/// size; a GPS date without a time of day is a UTC date, not a local one.
#[test]
fn show_gives_local_time_with_its_offset_and_gps_dates_as_utc() {
    let Some(iphone) = shared("exif/heic/IMG_5195.HEIC") else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let env = Env::new();
    env.init();
    Run::of(
        env.command()
            .args(["--vault", "vault", "ingest"])
            .arg(&iphone),
    )
    .ok();
    let r = reference("heic/IMG_5195.HEIC");
    let offset = r["ExifIFD:OffsetTimeOriginal"].as_str().unwrap().to_owned();
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    let line = human
        .lines()
        .find(|l| l.trim_start().starts_with("exif.DateTimeOriginal"))
        .unwrap_or_else(|| panic!("{human}"));
    assert!(line.contains("Z UTC (local "), "{line}");
    assert!(line.contains(&format!("{offset})")), "{line}");

    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut plain)
        .encode_image(&image::RgbImage::from_pixel(
            64,
            48,
            image::Rgb([90, 120, 150]),
        ))
        .unwrap();
    env.write("gps-date.jpg", &plain);

    // A turn the file asks for is said beside the size as stored.
    if let Some(upright) = shared("exif/heic/mobile/iphone_13_pro_max.HEIC") {
        Run::of(
            env.command()
                .args(["--vault", "vault", "ingest"])
                .arg(&upright),
        )
        .ok();
        let human = env.run(&["show", "ITM-000002"]).ok().stdout;
        assert!(
            human.contains("(EXIF orientation 6: rotate 90 CW)"),
            "{human}"
        );
    }
    let tagged = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-GPSDateStamp=2022:03:18",
            "-GPSLatitude=50.5",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=30.2",
            "-GPSLongitudeRef=E",
        ])
        .arg(env.path("gps-date.jpg"))
        .status();
    if !tagged.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped the GPS date: exiftool not found (apt-get install libimage-exiftool-perl)"
        );
        return;
    }
    env.run(&["ingest", "gps-date.jpg"]).ok();
    let list = env.run(&["list", "--json"]).ok().json();
    let last = list.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let human = env.run(&["show", &last]).ok().stdout;
    assert!(
        human.contains("2022-03-18 (a UTC date, without a time of day)"),
        "{human}"
    );
}
