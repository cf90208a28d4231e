//! Near-duplicates through the command line: copies found, strangers not, clusters with
//! their earliest provable appearance chosen by the strength of each time's basis.

use custody_testkit::tsa::LocalTsa;

use crate::support::*;

/// A synthetic, non-graphic scene: gradients and rectangles, deterministic from `seed`.
fn scene(seed: u32, w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let band = (x * 7 / w + y * 5 / h + seed) % 6;
        let base = [40 + band * 30, 90 + (x * 100 / w), 60 + (y * 120 / h)];
        let in_box = (x / (w / 5) + y / (h / 4) + seed).is_multiple_of(3);
        let v = |c: u32| {
            if in_box {
                (c / 2) as u8
            } else {
                c.min(255) as u8
            }
        };
        image::Rgb([v(base[0]), v(base[1] + seed * 20 % 60), v(base[2])])
    })
}

fn jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// `jpeg` with an EXIF segment holding only DateTimeOriginal (`YYYY:MM:DD HH:MM:SS`, no
/// offset: a local time), as a camera writes it.
fn with_capture_time(jpeg: &[u8], when: &str) -> Vec<u8> {
    assert_eq!(when.len(), 19);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II");
    tiff.extend_from_slice(&42u16.to_le_bytes());
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: one entry, the Exif IFD's place (26).
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x8769, 4, 1, 26);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // The Exif IFD at 26: DateTimeOriginal, its text at 44.
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x9003, 2, 20, 44);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(when.as_bytes());
    tiff.push(0);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The file names of a cluster's members, in order.
fn member_names(cluster: &serde_json::Value) -> Vec<&str> {
    cluster["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect()
}

#[test]
fn copies_are_found_and_strangers_are_not() {
    let env = Env::new();
    env.init();
    let original = scene(1, 800, 600);
    env.write("a/original.jpg", &jpeg(&original, 92));
    env.run(&["ingest", "a", "--case", "A"]).ok();
    let resized =
        image::imageops::resize(&original, 480, 360, image::imageops::FilterType::Lanczos3);
    let cropped = image::imageops::crop_imm(&original, 24, 18, 752, 564).to_image();
    env.write("b/messenger.jpg", &jpeg(&resized, 70));
    env.write("b/cropped.jpg", &jpeg(&cropped, 80));
    env.write("b/stranger.jpg", &jpeg(&scene(4, 800, 600), 92));
    env.write("b/text.txt", b"not an image\n");
    env.run(&["ingest", "b", "--case", "B"]).ok();
    env.run(&["ingest", "a/original.jpg", "--case", "B"]).ok(); // the same bytes again

    let r = env.run(&["similar", "ITM-000001", "--json"]).ok().json();
    let found: Vec<(String, u64, bool)> = r["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_owned(),
                n["distance"].as_u64().unwrap(),
                n["same_bytes"].as_bool().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
    assert!(
        names.contains(&"messenger.jpg") && names.contains(&"cropped.jpg"),
        "{found:?}"
    );
    assert!(
        !names.contains(&"stranger.jpg"),
        "an unrelated picture is not a near-duplicate: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(n, d, same)| n == "original.jpg" && *d == 0 && *same),
        "{found:?}"
    );
    let human = env.run(&["similar", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("same bytes") && human.contains("messenger.jpg"),
        "{human}"
    );

    let text = env.run(&["similar", "ITM-000005"]);
    text.refused("ITM-000005 (text.txt) has no perceptual hash: only JPEG, PNG, TIFF, WebP, HEIC/HEIF and AVIF images and the keyframes of MP4, MOV, M4V, 3GP, WebM, Matroska, MPEG-TS, MPEG program stream, FLV and AVI videos are hashed, and this is text/plain");
    for bad in ["65", "1000", "x"] {
        let r = env.run(&["similar", "ITM-000001", "--max-distance", bad]);
        assert_eq!(r.code, 2, "--max-distance {bad}: {}", r.stdout);
    }
    let r = env.run(&["clusters", "--max-distance", "65"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let r = env.run(&["clusters", "--case", "NOPE"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("no case \"NOPE\" was opened and no items are filed under it"),
        "{}",
        r.stderr
    );

    let clusters = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    let c = clusters.as_array().unwrap();
    assert_eq!(c.len(), 1, "{clusters}");
    let members = member_names(&c[0]);
    assert_eq!(
        members.len(),
        4,
        "original twice, resized, cropped: {members:?}"
    );
    // No device clock and no token: the vault's own record of collection decides.
    assert_eq!(c[0]["earliest"]["item"], "ITM-000001");
    assert_eq!(c[0]["earliest"]["basis"], "reported");
    // Each member with its distance to that earliest one: 0 for the same bytes, at most
    // the limit for the messenger copy, and something for the crop.
    let distance = |name: &str| {
        c[0]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"] == name)
            .map(|m| m["distance"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(distance("original.jpg"), [0, 0], "{clusters}");
    let copies = [distance("messenger.jpg")[0], distance("cropped.jpg")[0]];
    assert!(copies.iter().all(|&d| d <= 10), "{clusters}");
    assert!(copies[1] > 0, "a crop is not pixel-identical: {clusters}");
    let text = env.run(&["clusters"]).ok().stdout;
    assert!(text.contains("ITM-000001  earliest"), "{text}");
    assert!(
        text.contains(&format!("distance {:>2}", copies[1])),
        "{text}"
    );
    let only_b = env.run(&["clusters", "--case", "B", "--json"]).ok().json()["clusters"].take();
    assert_eq!(
        only_b[0]["members"].as_array().unwrap().len(),
        3,
        "{only_b}"
    );
    env.run(&["verify"]).ok();
}

/// A file found outside the vault is looked up without being preserved: its
/// near-duplicates are found, items holding its very bytes are named (hashed or not),
/// and nothing is written.
#[test]
fn a_file_outside_the_vault_is_looked_up_and_never_preserved() {
    let env = Env::new();
    env.init();
    let original = scene(1, 800, 600);
    let original_jpeg = jpeg(&original, 92);
    env.write("a/original.jpg", &original_jpeg);
    env.write("a/stranger.jpg", &jpeg(&scene(4, 800, 600), 92));
    env.run(&["ingest", "a", "--case", "A"]).ok();
    let other = jpeg(&scene(2, 640, 480), 90);
    env.write("b/unexamined.jpg", &other);
    env.run(&["ingest", "b", "--no-extract"]).ok();
    let resized =
        image::imageops::resize(&original, 480, 360, image::imageops::FilterType::Lanczos3);
    let found_online = jpeg(&resized, 70);
    env.write("outside/found.jpg", &found_online);
    env.write("outside/copy of original.jpg", &original_jpeg);
    env.write("outside/copy of unexamined.jpg", &other);
    env.write("outside/notes.txt", b"not an image\n");
    let checkpoint = env.run(&["log", "checkpoint"]).ok().stdout;
    let items = env.run(&["list", "--json"]).ok().stdout;

    let r = env
        .run(&["similar", "--file", "outside/found.jpg", "--json"])
        .ok()
        .json();
    assert!(r.get("item").is_none(), "{r}");
    assert_eq!(r["file"]["path"], "outside/found.jpg");
    assert_eq!(r["file"]["sha256"], sha256_hex(&found_online));
    assert_eq!(r["file"]["media_type"], "image/jpeg");
    assert_eq!(r["file"]["in_vault"], serde_json::json!([]), "{r}");
    let names: Vec<(&str, bool)> = r["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                n["same_bytes"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("original.jpg", false)], "{r}");
    assert!(
        r["neighbours"][0]["distance"].as_u64().unwrap() <= 10,
        "{r}"
    );
    let text = env
        .run(&["similar", "--file", "outside/found.jpg"])
        .ok()
        .stdout;
    assert!(
        text.starts_with("outside/found.jpg (image/jpeg, sha256 ")
            && text.contains("not in the vault")
            && text.contains("original.jpg"),
        "{text}"
    );

    // The very bytes of an item, under another name.
    let r = env
        .run(&[
            "similar",
            "--file",
            "outside/copy of original.jpg",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        r["file"]["in_vault"],
        serde_json::json!(["ITM-000001"]),
        "{r}"
    );
    assert_eq!(r["neighbours"][0]["item"], "ITM-000001");
    assert_eq!(r["neighbours"][0]["same_bytes"], true);
    assert_eq!(r["neighbours"][0]["distance"], 0);
    let text = env
        .run(&["similar", "--file", "outside/copy of original.jpg"])
        .ok()
        .stdout;
    assert!(text.contains("the very bytes of ITM-000001"), "{text}");
    // Preserved without examination: no hash recorded, the same bytes all the same.
    let r = env
        .run(&[
            "similar",
            "--file",
            "outside/copy of unexamined.jpg",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        r["file"]["in_vault"],
        serde_json::json!(["ITM-000003"]),
        "{r}"
    );

    // A distance of its own, with a file or an item, in either order: at 64 every
    // hashed picture is a neighbour, the stranger too.
    let names = |r: &serde_json::Value| -> Vec<String> {
        r["neighbours"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for args in [
        &[
            "similar",
            "--file",
            "outside/found.jpg",
            "--max-distance",
            "64",
            "--json",
        ][..],
        &[
            "similar",
            "--max-distance",
            "64",
            "--file",
            "outside/found.jpg",
            "--json",
        ][..],
        &["similar", "ITM-000001", "--max-distance", "64", "--json"][..],
    ] {
        let r = env.run(args).ok().json();
        assert_eq!(r["max_distance"], 64, "{r}");
        assert!(
            names(&r).contains(&"stranger.jpg".to_owned()),
            "{args:?}: {r}"
        );
    }

    env.run(&["similar", "--file", "outside/notes.txt"])
        .refused("outside/notes.txt has no perceptual hash: only JPEG, PNG");
    env.run(&["similar", "--file", "outside/missing.jpg"])
        .refused("outside/missing.jpg: could not be read:");
    env.run(&["similar", "--file", "outside"])
        .refused("outside is not a regular file; give an image or a video");
    for args in [
        &["similar", "ITM-000001", "--file", "outside/found.jpg"][..],
        &["similar"][..],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    // Only read: no ledger entry, no item.
    assert_eq!(env.run(&["log", "checkpoint"]).ok().stdout, checkpoint);
    assert_eq!(env.run(&["list", "--json"]).ok().stdout, items);
    env.run(&["verify"]).ok();
}

/// A picture collected twice and near nothing else is still a group, with its earliest
/// appearance; a JPEG that cannot be decoded says why, in `show` and in `similar`.
#[test]
fn exact_copies_group_and_undecodable_images_say_why() {
    let env = Env::new();
    env.init();
    let bytes = jpeg(&scene(2, 640, 480), 90);
    env.write("a/posted.jpg", &bytes);
    env.write("b/reposted.jpg", &bytes);
    env.write("b/broken.jpg", &bytes[..bytes.len() / 2]);
    env.write("a/statement.txt", b"a witness statement, collected twice\n");
    env.write(
        "b/statement-copy.txt",
        b"a witness statement, collected twice\n",
    );
    env.run(&["ingest", "a"]).ok();
    env.run(&["ingest", "b"]).ok();
    let clusters = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    let c = clusters.as_array().unwrap();
    assert_eq!(c.len(), 2, "{clusters}");
    // Same bytes of a file that has no perceptual hash: a group too.
    let names = |k: usize| member_names(&c[k]);
    let text_group = (0..2)
        .find(|&k| names(k).contains(&"statement.txt"))
        .unwrap();
    assert_eq!(
        names(text_group),
        ["statement.txt", "statement-copy.txt"],
        "{clusters}"
    );
    let c = [c[1 - text_group].clone()];
    let members = member_names(&c[0]);
    assert_eq!(members, ["posted.jpg", "reposted.jpg"], "{clusters}");
    assert_eq!(c[0]["earliest"]["item"], "ITM-000001");

    let broken = env
        .run(&["list", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["original_name"] == "broken.jpg")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .unwrap();
    let r = env.run(&["similar", &broken]);
    r.refused(&format!(
        "{broken} (broken.jpg) has no perceptual hash: the JPEG data cannot be decoded"
    ));
    let shown = env.run(&["show", &broken]).ok().stdout;
    assert!(
        shown.contains("perceptual hash none: the JPEG data cannot be decoded"),
        "{shown}"
    );
    let whole = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(whole.contains("perceptual hash "), "{whole}");
    assert!(!whole.contains("perceptual hash none"), "{whole}");
}

#[test]
fn the_strongest_time_basis_decides_the_first_appearance() {
    let Some(gps) = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/exif/jpg/gps/DSCN0010.jpg")
        .canonicalize()
        .ok()
    else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let env = Env::new();
    env.init();
    // A messenger copy (no metadata) is collected first; the camera original later.
    let img = image::load_from_memory(&std::fs::read(&gps).unwrap())
        .unwrap()
        .to_rgb8();
    let copy = image::imageops::resize(&img, 400, 300, image::imageops::FilterType::Triangle);
    env.write("copy.jpg", &jpeg(&copy, 75));
    env.run(&["ingest", "copy.jpg"]).ok();
    let out = env
        .command()
        .args(["--vault", "vault", "ingest"])
        .arg(&gps)
        .output()
        .unwrap();
    assert!(out.status.success());

    let c = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    let e = &c[0]["earliest"];
    // The camera's clock (2008) outranks when the vault happened to receive the copy.
    assert_eq!(e["item"], "ITM-000002", "{c}");
    assert_eq!(e["basis"], "device clock");
    assert!(e["at"].as_str().unwrap().starts_with("2008-10-2"), "{e}");

    // An independent timestamp over the ledger outranks any device clock.
    if custody_testkit::pki::openssl_available() {
        let tsa = LocalTsa::start();
        env.run(&["timestamp", "--tsa", tsa.url()]).ok();
        let c = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
        assert_eq!(c[0]["earliest"]["basis"], "attested", "{c}");
        assert_eq!(
            c[0]["earliest"]["item"], "ITM-000001",
            "one token covers both; the tie goes to the smaller id"
        );
    }
}

#[test]
fn preserving_first_and_examining_later_finds_the_same_copies() {
    let env = Env::new();
    env.init();
    let original = scene(3, 640, 480);
    let smaller =
        image::imageops::resize(&original, 320, 240, image::imageops::FilterType::Triangle);
    env.write("dump/original.jpg", &jpeg(&original, 90));
    env.write("dump/smaller.jpg", &jpeg(&smaller, 70));
    let r = env
        .run(&["ingest", "dump", "--no-extract", "--json"])
        .ok()
        .json();
    assert_eq!(r["ingested"], 2, "{r}");
    // Nothing was derived yet: no metadata entry, no perceptual hash, and `similar`
    // says what to run.
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert!(shown["metadata"].is_null(), "{shown}");
    let early = env.run(&["similar", "ITM-000001"]);
    early.refused("custody extract --all");
    // A video's keyframes are hashed when it is examined: not yet, so the same advice.
    let mut clip = vec![0, 0, 0, 16];
    clip.extend_from_slice(b"ftypisom\0\0\x02\0");
    env.write("clip.mp4", &clip);
    env.run(&["ingest", "clip.mp4", "--no-extract"]).ok();
    let video = env.run(&["similar", "ITM-000003"]);
    video.refused("ITM-000003 has not been examined yet");
    assert!(
        video.stderr.contains("custody extract --all") && video.stderr.contains("keyframe"),
        "{}",
        video.stderr
    );
    // Grouping says what it could not look at, without spoiling the JSON.
    let grouped = env.run(&["clusters", "--json"]).ok();
    let report = grouped.json();
    assert_eq!(report["clusters"], serde_json::json!([]));
    assert_eq!(
        (report["items"].as_u64(), report["unexamined"].as_u64()),
        (Some(3), Some(3)),
        "{report}"
    );
    assert!(
        grouped
            .stderr
            .contains("3 of 3 items were never examined (ingested with --no-extract)")
            && grouped.stderr.contains("custody extract --all"),
        "{}",
        grouped.stderr
    );

    let r = env.run(&["extract", "--all", "--json"]).ok().json();
    assert_eq!(
        (r["extracted"].as_u64(), r["up_to_date"].as_u64()),
        (Some(3), Some(0))
    );
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert_eq!(shown["metadata"]["extractor"], "custody-extract");
    // Examined now, the MP4 without a track has no keyframes, and says what its
    // extraction recorded.
    let shown = env.run(&["show", "ITM-000003", "--json"]).ok().json();
    assert_eq!(
        shown["keyframes"]["algorithm"], "custody-phash-v1",
        "{shown}"
    );
    let error = shown["keyframes"]["error"].as_str().unwrap();
    let why = error.strip_prefix("could not hash: ").unwrap();
    env.run(&["similar", "ITM-000003"]).refused(&format!(
        "ITM-000003 (clip.mp4) has no keyframe hashes: {why}"
    ));
    let text = env.run(&["show", "ITM-000003"]).ok().stdout;
    assert!(
        text.contains(&format!("  keyframes     none: {why}")),
        "{text}"
    );
    let grouped = env.run(&["clusters"]).ok();
    assert!(
        grouped.stdout.contains("original.jpg"),
        "{}",
        grouped.stdout
    );
    assert!(
        !grouped.stderr.contains("never examined"),
        "{}",
        grouped.stderr
    );
    let found = env.run(&["similar", "ITM-000001", "--json"]).ok().json();
    let names: Vec<&str> = found["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["smaller.jpg"]);
    env.run(&["verify", "--full"]).ok();
}

#[test]
fn impossible_device_clocks_are_flagged_and_never_the_first_appearance() {
    let env = Env::new();
    env.init();
    let original = scene(5, 640, 480);
    let smaller =
        image::imageops::resize(&original, 480, 360, image::imageops::FilterType::Triangle);
    let smallest =
        image::imageops::resize(&original, 320, 240, image::imageops::FilterType::Triangle);
    // A camera whose clock was reset, one set far in the future, one plausible.
    env.write(
        "in/reset.jpg",
        &with_capture_time(&jpeg(&original, 90), "1970:01:01 00:00:00"),
    );
    env.write(
        "in/future.jpg",
        &with_capture_time(&jpeg(&smaller, 85), "2099:01:01 00:00:00"),
    );
    env.write(
        "in/plausible.jpg",
        &with_capture_time(&jpeg(&smallest, 80), "2021:05:01 10:00:00"),
    );
    env.run(&["ingest", "in"]).ok();

    let c = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    assert_eq!(c.as_array().unwrap().len(), 1, "{c}");
    let member = |name: &str| {
        c[0]["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    let e = &c[0]["earliest"];
    assert_eq!(e["item"], member("plausible.jpg")["item"], "{c}");
    assert_eq!(e["basis"], "device clock", "{c}");
    assert!(e["at"].as_str().unwrap().starts_with("2021-05-01"), "{e}");
    // Each impossible reading is listed with why it is not used.
    let why = |name: &str| -> String {
        member(name)["times"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                t["source"]
                    .as_str()
                    .unwrap()
                    .starts_with("exif.DateTimeOriginal")
            })
            .unwrap()["not_used"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert!(why("reset.jpg").contains("the Unix epoch"), "{c}");
    assert!(
        why("future.jpg").contains("later than the bytes' collection"),
        "{c}"
    );
    assert_eq!(why("plausible.jpg"), "", "{c}");
    // The reading set aside is given as read (a local time: the latest instant it can
    // stand for), not as the collection time its reason compares it with.
    let future = member("future.jpg")["times"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| !t["not_used"].is_null())
        .unwrap()["at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(future.starts_with("2099-01-01T12:00:00"), "{future}");
    let text = env.run(&["clusters"]).ok().stdout;
    assert!(text.contains("not used: exif.DateTimeOriginal"), "{text}");
    assert!(text.contains("2099-01-01T12:00:00"), "{text}");

    // `show` says so beside the times, and `--json` names the clock.
    let reset = member("reset.jpg")["item"].as_str().unwrap().to_owned();
    let shown = env.run(&["show", &reset]).ok().stdout;
    assert!(
        shown.contains(
            "note: exif.DateTimeOriginal is not a capture time: within a month of 1970-01-01"
        ),
        "{shown}"
    );
    let shown = env.run(&["show", &reset, "--json"]).ok().json();
    assert_eq!(
        shown["implausible_times"][0]["source"], "exif.DateTimeOriginal",
        "{shown}"
    );
}

#[test]
fn every_item_holding_the_bytes_shows_their_perceptual_hash() {
    let env = Env::new();
    env.init();
    env.write("a/photo.jpg", &jpeg(&scene(2, 320, 240), 85));
    env.write("b/photo-again.jpg", &jpeg(&scene(2, 320, 240), 85));
    env.run(&["ingest", "a"]).ok();
    env.run(&["ingest", "b"]).ok();
    let first = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let second = env.run(&["show", "ITM-000002", "--json"]).ok().json();
    assert_eq!(first["same_bytes"], serde_json::json!(["ITM-000002"]));
    let hash = first["perceptual_hash"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(hash.len(), 16, "{first}");
    assert_eq!(first["perceptual_hash"]["algorithm"], "custody-phash-v1");
    // The second collection was not examined again, yet its bytes' hash is known.
    assert_eq!(
        second["perceptual_hash"]["value"],
        hash.as_str(),
        "{second}"
    );
    let text = env.run(&["show", "ITM-000002"]).ok().stdout;
    assert!(text.contains(&format!("perceptual hash {hash}")), "{text}");
    let found = env.run(&["similar", "ITM-000002", "--json"]).ok().json();
    assert_eq!(found["phash"], hash.as_str());
}

/// A received item was in the sender's vault first: its signed collection there, and the
/// sender's timestamp over it (when its chain verified to roots given on import), date it
/// in the receiving vault's clusters.
#[test]
fn a_received_item_is_dated_by_the_senders_ledger() {
    let env = Env::new();
    env.init();
    let original = scene(4, 640, 480);
    env.write("sent/original.jpg", &jpeg(&original, 90));
    env.run(&["ingest", "sent", "--case", "C-1"]).ok();
    let tsa = custody_testkit::pki::openssl_available().then(LocalTsa::start);
    if let Some(tsa) = &tsa {
        let root = tsa.root.cert.to_str().unwrap().to_owned();
        env.run(&["timestamp", "--tsa", tsa.url(), "--roots", &root])
            .ok();
    }
    env.run(&["export", "--case", "C-1", "--out", "pkg"]).ok();
    let sent_at = env.run(&["show", "ITM-000001", "--json"]).ok().json()["item"]["ingested_at"]
        .as_str()
        .unwrap()
        .to_owned();

    // The receiver holds a smaller copy of its own, collected after the sender's, then
    // imports the package.
    env.run_bare(&["init", "vault2", "--name", "Receiving court"])
        .ok();
    let small = image::imageops::resize(&original, 320, 240, image::imageops::FilterType::Triangle);
    env.write("copy.jpg", &jpeg(&small, 70));
    env.run_bare(&["--vault", "vault2", "ingest", "copy.jpg"])
        .ok();
    let clusters = |extra: &[&str]| {
        let mut args = vec!["--vault", "vault2", "import", "pkg"];
        args.extend_from_slice(extra);
        env.run_bare(&args).ok();
        env.run_bare(&["--vault", "vault2", "clusters", "--json"])
            .ok()
            .json()["clusters"]
            .take()
    };
    // Without roots of its own, the receiver cannot trust the sender's token: the
    // sender's signed collection entry is the earliest reported time.
    let c = clusters(&["--json"]);
    let e = &c[0]["earliest"];
    assert_eq!(e["item"], "ITM-000002", "{c}");
    assert_eq!(e["basis"], "reported", "{c}");
    // The same instant (microseconds; the two forms may differ in trailing digits).
    let micros = |t: &str| t.trim_end_matches('Z').trim_end_matches('0').to_owned();
    assert_eq!(micros(e["at"].as_str().unwrap()), micros(&sent_at), "{c}");
    assert!(
        e["source"]
            .as_str()
            .unwrap()
            .contains("'s vault (their signed ledger entry"),
        "{e}"
    );

    // With the TSA's roots given on import, the sender's token attests the item.
    let Some(tsa) = &tsa else {
        eprintln!("skipped the timestamped half: openssl not found");
        return;
    };
    let root = tsa.root.cert.to_str().unwrap().to_owned();
    env.run_bare(&["init", "vault3", "--name", "Appeals chamber"])
        .ok();
    env.run_bare(&["--vault", "vault3", "ingest", "copy.jpg"])
        .ok();
    env.run_bare(&["--vault", "vault3", "import", "pkg", "--tsa-roots", &root])
        .ok();
    let c = env
        .run_bare(&["--vault", "vault3", "clusters", "--json"])
        .ok()
        .json()["clusters"]
        .take();
    let e = &c[0]["earliest"];
    assert_eq!(e["item"], "ITM-000002", "{c}");
    assert_eq!(e["basis"], "attested", "{c}");
    assert!(
        e["source"].as_str().unwrap().contains("verified on import"),
        "{e}"
    );
    // Roots given on import are trusted by the vault from then on: a ledger entry.
    let trust = env
        .run_bare(&["--vault", "vault3", "--json", "trust"])
        .ok()
        .json();
    assert_eq!(
        trust["tsa_roots"]["certificates"][0]["sha256"],
        sha256_hex(&tsa.root.der),
        "{trust}"
    );
    assert!(trust["tsa_roots"]["certificates"][0]["ledger_seq"].is_u64());
    // A vault that already trusts the root needs none given: its own roots check the
    // sender's tokens.
    env.run_bare(&["init", "vault4", "--name", "Prosecutor"])
        .ok();
    env.run_bare(&["--vault", "vault4", "timestamp", "--roots", &root])
        .ok();
    env.run_bare(&["--vault", "vault4", "ingest", "copy.jpg"])
        .ok();
    env.run_bare(&["--vault", "vault4", "import", "pkg"]).ok();
    let c = env
        .run_bare(&["--vault", "vault4", "clusters", "--json"])
        .ok()
        .json()["clusters"]
        .take();
    assert_eq!(c[0]["earliest"]["item"], "ITM-000002", "{c}");
    assert_eq!(c[0]["earliest"]["basis"], "attested", "{c}");
    // Withdrawn, the root no longer dates the sender's token there.
    env.run_bare(&[
        "--vault",
        "vault4",
        "trust",
        "--remove",
        &sha256_hex(&tsa.root.der),
    ])
    .ok();
    let c = env
        .run_bare(&["--vault", "vault4", "clusters", "--json"])
        .ok()
        .json()["clusters"]
        .take();
    assert_eq!(c[0]["earliest"]["basis"], "reported", "{c}");
    assert!(
        c.to_string()
            .contains("no longer verifies to a TSA root this vault trusts"),
        "{c}"
    );
    // A vault that trusts only another TSA's root still imports the package: the
    // sender's token dates nothing there, and says so.
    let other = LocalTsa::start();
    env.run_bare(&["init", "vault5", "--name", "Archive"]).ok();
    env.run_bare(&[
        "--vault",
        "vault5",
        "timestamp",
        "--roots",
        other.root.cert.to_str().unwrap(),
    ])
    .ok();
    let imported = env.run_bare(&["--vault", "vault5", "import", "pkg"]).ok();
    assert!(
        imported
            .stdout
            .contains("does not verify to the TSA roots this vault trusts"),
        "{}",
        imported.stdout
    );
    // Roots given with an import that fails are not trusted: nothing is recorded.
    env.run_bare(&["init", "vault6", "--name", "Refused"]).ok();
    env.run_bare(&[
        "--vault",
        "vault6",
        "import",
        "pkg",
        "--tsa-roots",
        &root,
        "--vkey",
        "not-a-vkey+00000000+AAAA",
    ])
    .refused("nothing was imported");
    let trust = env
        .run_bare(&["--vault", "vault6", "--json", "trust"])
        .ok()
        .json();
    assert_eq!(
        trust["tsa_roots"]["certificates"],
        serde_json::json!([]),
        "{trust}"
    );

    // The first vault imported without roots: importing again with them says that the
    // tokens verified now were not recorded, and date nothing there.
    let again = env
        .run_bare(&["--vault", "vault2", "import", "pkg", "--tsa-roots", &root])
        .ok();
    assert!(
        again.stdout.contains("note: 1 of the sender's timestamps verify to the roots trusted now but were not verified when the package was first imported"),
        "{}",
        again.stdout
    );

    // An altered record kept on import no longer dates the item, and says so; the
    // token, verified on import and recorded in this vault's ledger, still does.
    let kept = std::fs::read_dir(env.path("vault3/received"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .unwrap()
        .join("custody/entries/00000000000000000002.json");
    let text = std::fs::read_to_string(&kept).unwrap();
    std::fs::write(&kept, text.replacen("\"time\":\"20", "\"time\":\"19", 1)).unwrap();
    let c = env
        .run_bare(&["--vault", "vault3", "clusters", "--json"])
        .ok()
        .json()["clusters"]
        .take();
    assert_eq!(c[0]["earliest"]["basis"], "attested", "{c}");
    let received = c[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["item"] == "ITM-000002")
        .unwrap();
    assert!(
        !received["times"]
            .to_string()
            .contains("their signed ledger entry"),
        "{received}"
    );
    assert!(
        received["notes"][0]
            .as_str()
            .unwrap()
            .contains("is no longer the one recorded"),
        "{received}"
    );
}

/// A phone's HEIC photograph and the smaller JPEG a messenger makes of it are found as
/// near-duplicates; `show` gives the HEIC's perceptual hash. The HEIC is the synthetic
/// fixture libheif's encoder wrote from `picture.png`; with ../shared, a real iPhone
/// photograph is ingested beside them and is no one's copy.
#[test]
fn a_heic_photograph_and_a_jpeg_copy_of_it_are_near_duplicates() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data");
    let env = Env::new();
    env.init();
    env.write(
        "dump/phone.heic",
        &std::fs::read(data.join("picture.heic")).unwrap(),
    );
    let picture = image::open(data.join("picture.png")).unwrap().to_rgb8();
    let copy = image::imageops::resize(&picture, 240, 180, image::imageops::FilterType::Triangle);
    env.write("dump/forwarded.jpg", &jpeg(&copy, 70));
    let iphone = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/exif/heic/mobile/iphone_13_pro_max.HEIC");
    let real = iphone.is_file();
    if real {
        env.write("dump/iphone.heic", &std::fs::read(&iphone).unwrap());
    } else {
        eprintln!("note: ../shared not found; the real iPhone photograph is left out");
    }
    let r = env.run(&["ingest", "dump", "--json"]).ok().json();
    assert_eq!(r["ingested"], if real { 3 } else { 2 }, "{r}");
    let id = |name: &str| item_id(&env, name);
    let (heic, forwarded) = (id("phone.heic"), id("forwarded.jpg"));

    let shown = env.run(&["show", &heic]).ok();
    assert!(
        shown.stdout.contains("perceptual hash "),
        "{}",
        shown.stdout
    );
    assert!(
        !shown.stdout.contains("perceptual hash none"),
        "{}",
        shown.stdout
    );

    let near = env.run(&["similar", &heic, "--json"]).ok().json();
    let neighbours = near["neighbours"].as_array().unwrap();
    assert_eq!(neighbours.len(), 1, "only the JPEG copy: {near}");
    assert_eq!(neighbours[0]["item"], forwarded.as_str(), "{near}");
    assert!(neighbours[0]["distance"].as_u64().unwrap() <= 10, "{near}");

    if real {
        let phone = env
            .run(&["similar", &id("iphone.heic"), "--json"])
            .ok()
            .json();
        assert_eq!(phone["neighbours"], serde_json::json!([]), "{phone}");
        assert_eq!(phone["phash"].as_str().unwrap().len(), 16, "{phone}");
    }
}

/// An AVIF picture (AV1, as websites serve pictures now), the same picture as a grid of
/// AV1 tiles, and a smaller JPEG copy are near-duplicates. AV1 is decoded in a child
/// process: a damaged AVIF that makes the decoder abort (rav1d 1.1 panics inside its C
/// interface on this one) costs that file its hash, told as such, and nothing else.
#[test]
fn avif_pictures_are_found_and_a_damaged_one_costs_only_its_hash() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data");
    let env = Env::new();
    env.init();
    let avif = std::fs::read(data.join("picture.avif")).unwrap();
    env.write("dump/web.avif", &avif);
    env.write(
        "dump/tiles.avif",
        &std::fs::read(data.join("picture_grid.avif")).unwrap(),
    );
    // An animated AVIF of the same picture (one second of it).
    env.write(
        "dump/animated.avif",
        &std::fs::read(data.join("animated.avif")).unwrap(),
    );
    let mut damaged = avif.clone();
    let mid = damaged.len() / 2;
    damaged[mid..mid + 16].fill(0xff);
    env.write("dump/damaged.avif", &damaged);
    let picture = image::open(data.join("picture.png")).unwrap().to_rgb8();
    let copy = image::imageops::resize(&picture, 240, 180, image::imageops::FilterType::Triangle);
    env.write("dump/forwarded.jpg", &jpeg(&copy, 70));

    let r = env.run(&["ingest", "dump", "--json"]).ok().json();
    assert_eq!(
        (r["ingested"].as_u64(), r["failed"].as_u64()),
        (Some(5), Some(0)),
        "{r}"
    );
    let id = |name: &str| item_id(&env, name);

    // The animated one is a picture file, shown with its sequence's length and size.
    let animated = env.run(&["show", &id("animated.avif")]).ok().stdout;
    assert!(animated.contains("image/avif (from content)"), "{animated}");
    assert!(
        animated.contains("sequence      1.0 s, 480×360, AV1 (av01)"),
        "{animated}"
    );

    let shown = env
        .run(&["show", &id("damaged.avif"), "--json"])
        .ok()
        .json();
    let error = shown["perceptual_hash"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.starts_with("could not hash: the AVIF data cannot be decoded (the AV1 decoder stopped on this stream: it aborted"),
        "{shown}"
    );
    // The damaged file is preserved bit for bit all the same.
    let out = env.path("damaged-back.avif");
    env.run(&["get", &id("damaged.avif"), "--out", out.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read(&out).unwrap(), damaged);

    let near = env.run(&["similar", &id("web.avif"), "--json"]).ok().json();
    let mut names: Vec<&str> = near["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["animated.avif", "forwarded.jpg", "tiles.avif"],
        "{near}"
    );
    env.run(&["verify"]).ok();
}

/// An AV1 video (as video sites serve it, and downloaders keep it) is found from a still
/// of its second scene, and finds the still; the same in WebM. `show` names the codec.
#[test]
fn an_av1_video_is_found_from_a_still() {
    let aom = ["-c:v", "libaom-av1", "-cpu-used", "8", "-crf", "35"];
    found_from_a_still(&aom, "download.mp4", "video/mp4");
    found_from_a_still(&aom, "download.webm", "video/webm");

    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data");
    let env = Env::new();
    env.init();
    for name in [
        "moving_av1.mp4",
        "moving_av1.webm",
        "moving.mp4",
        "clip_rotated.mp4",
    ] {
        env.write(
            &format!("dump/{name}"),
            &std::fs::read(data.join(name)).unwrap(),
        );
    }
    env.run(&["ingest", "dump"]).ok();
    for (name, codec) in [
        ("moving_av1.mp4", "AV1 (av01)"),
        ("moving_av1.webm", "AV1 (V_AV1)"),
        ("moving.mp4", "H.264 (avc1)"),
    ] {
        let text = env.run(&["show", &item_id(&env, name)]).ok().stdout;
        assert!(
            text.contains(&format!("video         3.0 s, 320×240, {codec}\n")),
            "{name}: {text}"
        );
    }
    // A track matrix's turn is said beside the size as stored.
    let text = env
        .run(&["show", &item_id(&env, "clip_rotated.mp4")])
        .ok()
        .stdout;
    assert!(
        text.contains("480×360 (shown turned 270° clockwise), H.264 (avc1)"),
        "{text}"
    );
}

/// Makes a video with ffmpeg, run in the test's folder with `args` after the common ones;
/// false, having said that the test skips, when ffmpeg is not installed.
fn ffmpeg(env: &Env, args: &[&str]) -> bool {
    if !custody_testkit::media::have_ffmpeg() {
        return false;
    }
    custody_testkit::media::ffmpeg(Some(&env.path("")), args);
    true
}

/// Two scenes, far apart as pictures, as PNG files `make/a.png` and `make/b.png`, and
/// JPEG stills of them in `dump/`, as a messenger would send them.
fn two_scenes(env: &Env) {
    for (name, seed) in [("a", 1), ("b", 4)] {
        let img = scene(seed, 640, 480);
        let png = env.path(&format!("make/{name}.png"));
        std::fs::create_dir_all(png.parent().unwrap()).unwrap();
        img.save(&png).unwrap();
        env.write(&format!("dump/still-{name}.jpg"), &jpeg(&img, 85));
    }
}

/// ffmpeg arguments of a two-second video at ten frames a second from the two scenes,
/// `width` pixels wide: scene a for the first second, scene b for the second, a keyframe
/// every second.
fn two_scene_video(width: u32, codec: &[&str], out: &str) -> Vec<String> {
    let filter = format!("[0:v][1:v]concat=n=2:v=1,fps=10,scale={width}:-2");
    let mut args: Vec<String> = [
        "-loop",
        "1",
        "-t",
        "1",
        "-i",
        "make/a.png",
        "-loop",
        "1",
        "-t",
        "1",
        "-i",
        "make/b.png",
        "-filter_complex",
        &filter,
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(codec.iter().map(|s| (*s).to_owned()));
    args.push(out.to_owned());
    args
}

fn item_id(env: &Env, name: &str) -> String {
    let items = env.run(&["list", "--json"]).ok().json();
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["original_name"] == name)
        .unwrap_or_else(|| panic!("{name} in {items}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The neighbour named `name` in a `similar --json` report.
fn neighbour<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("{name} among the neighbours: {report}"))
}

/// An H.264 MP4 made from two pictures and a JPEG still of each are found from one
/// another, each still beside the keyframe that shows its picture; each picture is a
/// group holding the video (with that keyframe's time) and its still; `show` lists the
/// video's keyframe hashes.
#[test]
fn stills_and_the_video_they_are_taken_from_find_each_other() {
    let env = Env::new();
    two_scenes(&env);
    let args = two_scene_video(640, &["-c:v", "libx264"], "dump/clip.mp4");
    if !ffmpeg(&env, &args.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    env.init();
    let r = env.run(&["ingest", "dump", "--json"]).ok().json();
    assert_eq!(r["ingested"], 3, "{r}");
    let (clip, a, b) = (
        item_id(&env, "clip.mp4"),
        item_id(&env, "still-a.jpg"),
        item_id(&env, "still-b.jpg"),
    );

    // The video's keyframes, as recorded with its extraction.
    let shown = env.run(&["show", &clip, "--json"]).ok().json();
    assert_eq!(shown["item"]["media_type"], "video/mp4", "{shown}");
    assert!(shown.get("perceptual_hash").is_none(), "{shown}");
    let frames = shown["keyframes"]["frames"]
        .as_array()
        .unwrap_or_else(|| panic!("keyframes hashed: {}", shown["keyframes"]));
    assert!((2..=5).contains(&frames.len()), "{frames:?}");
    for f in frames {
        assert_eq!(f["value"].as_str().unwrap().len(), 16, "{f}");
        assert!(f["at_ms"].as_u64().unwrap() < 2_000, "{f}");
    }
    let text = env.run(&["show", &clip]).ok().stdout;
    let first = format!(
        "  keyframes     0:0{}",
        frames[0]["at_ms"].as_u64().unwrap() / 1_000
    );
    assert!(text.contains(&first), "{text}");
    assert!(!text.contains("perceptual hash none"), "{text}");

    // Each still finds the video, at the keyframe showing its picture.
    for (still, second) in [(&a, 0), (&b, 1)] {
        let found = env.run(&["similar", still, "--json"]).ok().json();
        let n = neighbour(&found, "clip.mp4");
        assert!(n["distance"].as_u64().unwrap() <= 10, "{found}");
        let at_ms = n["at_ms"].as_u64().unwrap();
        assert_eq!(at_ms / 1_000, second, "{found}");
        assert!(n.get("query_at_ms").is_none(), "{found}");
        assert_eq!(found["neighbours"].as_array().unwrap().len(), 1, "{found}");
        let text = env.run(&["similar", still]).ok().stdout;
        assert!(
            text.contains(&format!("clip.mp4  at {}", clock(at_ms))),
            "{text}"
        );
    }

    // The video finds both stills, each once, with which of its keyframes matched.
    let found = env.run(&["similar", &clip, "--json"]).ok().json();
    assert!(found.get("phash").is_none(), "{found}");
    assert_eq!(found["keyframes"].as_array().unwrap().len(), frames.len());
    assert_eq!(found["neighbours"].as_array().unwrap().len(), 2, "{found}");
    for (name, second) in [("still-a.jpg", 0), ("still-b.jpg", 1)] {
        let n = neighbour(&found, name);
        assert!(n["distance"].as_u64().unwrap() <= 10, "{found}");
        assert_eq!(
            n["query_at_ms"].as_u64().unwrap() / 1_000,
            second,
            "{found}"
        );
        assert!(n.get("at_ms").is_none(), "{found}");
    }
    let text = env.run(&["similar", &clip]).ok().stdout;
    assert!(text.contains("(video, "), "{text}");
    assert!(
        text.contains("still-b.jpg  with this video at 0:01"),
        "{text}"
    );

    // One group per picture: the video is in both, with the keyframe that shows it;
    // the two stills, different pictures, are never joined through the video.
    let clusters = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    let groups = clusters.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{clusters}");
    for (name, second) in [("still-a.jpg", 0), ("still-b.jpg", 1)] {
        let group = groups
            .iter()
            .find(|c| member_names(c).contains(&name))
            .unwrap_or_else(|| panic!("{name} in {clusters}"));
        let mut members = member_names(group);
        members.sort();
        assert_eq!(members, ["clip.mp4", name], "{clusters}");
        let video = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "clip.mp4")
            .unwrap();
        assert_eq!(
            video["at_ms"].as_u64().unwrap() / 1_000,
            second,
            "{clusters}"
        );
    }
    let text = env.run(&["clusters"]).ok().stdout;
    assert!(text.contains("clip.mp4  at 0:01"), "{text}");
    env.run(&["verify"]).ok();
}

/// A smaller HEVC copy of an H.264 video, in a QuickTime file, is found from it and it
/// from the copy, frame against frame; each picture the videos show is a group, holding
/// each video once (and the still of the second scene in its group).
#[test]
fn a_video_and_a_smaller_hevc_copy_are_near_duplicates() {
    let env = Env::new();
    two_scenes(&env);
    let original = two_scene_video(640, &["-c:v", "libx264"], "dump/clip.mp4");
    if !ffmpeg(
        &env,
        &original.iter().map(String::as_str).collect::<Vec<_>>(),
    ) {
        return;
    }
    let hevc = two_scene_video(
        320,
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
            "-f",
            "mov",
        ],
        "dump/copy.mov",
    );
    if !ffmpeg(&env, &hevc.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    std::fs::remove_file(env.path("dump/still-a.jpg")).unwrap();
    env.init();
    env.run(&["ingest", "dump"]).ok();
    let (clip, copy) = (item_id(&env, "clip.mp4"), item_id(&env, "copy.mov"));
    let shown = env.run(&["show", &copy, "--json"]).ok().json();
    assert_eq!(shown["item"]["media_type"], "video/quicktime", "{shown}");

    for (from, other) in [(&clip, "copy.mov"), (&copy, "clip.mp4")] {
        let found = env.run(&["similar", from, "--json"]).ok().json();
        let n = neighbour(&found, other);
        assert!(n["distance"].as_u64().unwrap() <= 10, "{found}");
        assert!(n["at_ms"].is_u64() && n["query_at_ms"].is_u64(), "{found}");
        let text = env.run(&["similar", from]).ok().stdout;
        assert!(text.contains(&format!("{other}  at 0:0")), "{text}");
        assert!(text.contains(" with this video at 0:0"), "{text}");
    }

    // One group per picture: the first scene is shown by both videos, the second by
    // both videos and the still; each video is in both, once.
    let clusters = env.run(&["clusters", "--json"]).ok().json()["clusters"].take();
    let mut groups: Vec<Vec<&str>> = clusters
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut m = member_names(c);
            m.sort();
            m
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            vec!["clip.mp4", "copy.mov"],
            vec!["clip.mp4", "copy.mov", "still-b.jpg"]
        ],
        "{clusters}"
    );
    for c in clusters.as_array().unwrap() {
        for m in c["members"].as_array().unwrap() {
            assert!(m["distance"].as_u64().unwrap() <= 10, "{clusters}");
        }
    }
    env.run(&["verify"]).ok();
}

/// A time in a video as `custody` writes it (`m:ss.mmm`), for these short clips.
fn clock(ms: u64) -> String {
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1_000 % 60, ms % 1_000)
}

/// A fragmented MP4 (frames in movie fragments, as a screen recorder or a stream writes
/// them): `show` says it is fragmented, gives the length its fragments add up to (no
/// false one) and lists its
/// keyframes; a still of its second scene finds it at the keyframe showing that scene.
#[test]
fn a_fragmented_recording_is_found_from_a_still() {
    let env = Env::new();
    two_scenes(&env);
    let args = two_scene_video(
        480,
        // Without B-frames: no composition offset, which ffmpeg's fragments would carry
        // into the keyframes' times (no edit list takes it out).
        &[
            "-c:v",
            "libx264",
            "-bf",
            "0",
            "-movflags",
            "frag_keyframe+empty_moov",
        ],
        "dump/recording.mp4",
    );
    if !ffmpeg(&env, &args.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    std::fs::remove_file(env.path("dump/still-a.jpg")).unwrap();
    env.init();
    env.run(&["ingest", "dump"]).ok();
    let (recording, b) = (item_id(&env, "recording.mp4"), item_id(&env, "still-b.jpg"));
    let text = env.run(&["show", &recording]).ok().stdout;
    assert!(
        // Its length counted from its fragments (the file has no `mehd`).
        text.contains("video         2.0 s, 480×360, H.264 (avc1), fragmented MP4"),
        "{text}"
    );
    assert!(text.contains("  keyframes     0:00.000 "), "{text}");
    let shown = env.run(&["show", &recording, "--json"]).ok().json();
    let frames = shown["keyframes"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 2, "{shown}");

    let found = env.run(&["similar", &b, "--json"]).ok().json();
    let n = neighbour(&found, "recording.mp4");
    assert!(n["distance"].as_u64().unwrap() <= 10, "{found}");
    assert_eq!(n["at_ms"].as_u64().unwrap(), 1_000, "{found}");
    env.run(&["verify"]).ok();
}

/// A VP9 video in WebM (as YouTube serves video, and yt-dlp saves it) is found from a
/// still of its second scene, at the keyframe showing it, and finds the still.
#[test]
fn a_webm_video_is_found_from_a_still() {
    let vp9 = [
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "500k",
    ];
    found_from_a_still(&vp9, "download.webm", "video/webm");
}

/// A live stream recorded as an MPEG transport stream (H.264, as streamlink saves it)
/// is found from a still of its second scene, and finds the still.
#[test]
fn a_recorded_live_stream_is_found_from_a_still() {
    found_from_a_still(&["-c:v", "libx264"], "stream.ts", "video/mp2t");
}

/// A live stream recorded as Flash Video (H.264, as an RTMP server records it) is found
/// from a still of its second scene, and finds the still.
#[test]
fn an_rtmp_recording_is_found_from_a_still() {
    found_from_a_still(&["-c:v", "libx264"], "stream.flv", "video/x-flv");
}

/// A recording in AVI (H.264, as dashcams and CCTV exports write it) is found from a
/// still of its second scene, and finds the still.
#[test]
fn an_avi_recording_is_found_from_a_still() {
    found_from_a_still(&["-c:v", "libx264"], "recording.avi", "video/x-msvideo");
}

/// A CCTV export (H.264 in an MPEG program stream after a recorder's own header, named
/// `.mp4` as such recorders name it) is found from a still of its second scene, and
/// finds the still: it is told by its content, not its name.
#[test]
fn a_cctv_export_is_found_from_a_still() {
    let made = |env: &Env| {
        let args = two_scene_video(480, &["-c:v", "libx264"], "make/export.ts");
        if !ffmpeg(env, &args.iter().map(String::as_str).collect::<Vec<_>>()) {
            return false;
        }
        let ts = std::fs::read(env.path("make/export.ts")).unwrap();
        let header = [&b"IMKH"[..], &[1; 36]].concat();
        let ps = custody_testkit::media::program_stream_from_ts(&ts, &header, 0x1B);
        std::fs::write(env.path("dump/export.mp4"), ps).unwrap();
        true
    };
    found_from_a_still_made(made, "export.mp4", "video/mpeg");
}

/// MPEG-4 Part 2 video (ISO/IEC 14496-2) as archives and older phones hold it: an Xvid
/// AVI with B-VOPs, and a 3GP with video packets and data partitioning, are each found
/// from a still, and find it.
#[test]
fn an_xvid_file_and_a_phone_video_are_found_from_a_still() {
    found_from_a_still(
        &["-c:v", "mpeg4", "-vtag", "XVID", "-bf", "2", "-q:v", "2"],
        "archive.avi",
        "video/x-msvideo",
    );
    found_from_a_still(
        &[
            "-c:v",
            "mpeg4",
            "-ps",
            "500",
            "-data_partitioning",
            "1",
            "-q:v",
            "2",
        ],
        "phone.3gp",
        "video/3gpp",
    );
}

/// A broadcast recording (MPEG-2 video in a transport stream, 25 frames a second) and a
/// DVD's program stream are found from a still, and find it; `show` names the codec and
/// gives the length (in the program stream, most of the still's small frames share a
/// packet and have no time of their own: they are counted all the same).
#[test]
fn an_mpeg2_broadcast_recording_is_found_from_a_still() {
    for (name, media_type, format) in [
        ("broadcast.ts", "video/mp2t", "mpegts"),
        ("dvd.vob", "video/mpeg", "vob"),
    ] {
        let made = |env: &Env| {
            let mut args = two_scene_video(
                480,
                &["-c:v", "mpeg2video", "-q:v", "2", "-f", format],
                &format!("dump/{name}"),
            );
            // MPEG-2 knows no 10 frames a second: 25, a keyframe a second.
            for a in &mut args {
                *a = a.replace("fps=10", "fps=25");
            }
            let g = args.iter().position(|a| a == "-g").unwrap();
            args[g + 1] = "25".into();
            ffmpeg(env, &args.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let facts = serde_json::json!({"codec": "MPEG-2 video", "width": 480, "height": 360,
                                       "frames": 50, "duration_ms": 2000});
        found_with_stream(
            made,
            name,
            media_type,
            &facts,
            "MPEG-2 video 480×360, 50 frames, 2.0 s",
        );
    }
}

/// Ingests the two-scene video made with `codec` as `name` beside a still of its second
/// scene: the video is of `media_type`, its keyframes are at 0 and 1 s, and each finds
/// the other at 0:01.
fn found_from_a_still(codec: &[&str], name: &str, media_type: &str) {
    let made = |env: &Env| {
        let args = two_scene_video(480, codec, &format!("dump/{name}"));
        ffmpeg(env, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    found_from_a_still_made(made, name, media_type);
}

/// [`found_from_a_still`] with the video `name` made in `dump` by `make` (false: no
/// ffmpeg, and the test skips).
fn found_from_a_still_made(make: impl Fn(&Env) -> bool, name: &str, media_type: &str) {
    let h264 = serde_json::json!({"codec": "H.264", "width": 480, "height": 360,
                                  "frames": 20, "duration_ms": 2000});
    found_with_stream(
        make,
        name,
        media_type,
        &h264,
        "H.264 480×360, 20 frames, 2.0 s",
    );
}

/// [`found_from_a_still_made`], a transport or program stream's video being `facts`,
/// shown as `shown`.
fn found_with_stream(
    make: impl Fn(&Env) -> bool,
    name: &str,
    media_type: &str,
    facts: &serde_json::Value,
    shown_as: &str,
) {
    let env = Env::new();
    two_scenes(&env);
    if !make(&env) {
        return;
    }
    std::fs::remove_file(env.path("dump/still-a.jpg")).unwrap();
    env.init();
    env.run(&["ingest", "dump"]).ok();
    let (video, b) = (item_id(&env, name), item_id(&env, "still-b.jpg"));
    let shown = env.run(&["show", &video, "--json"]).ok().json();
    assert_eq!(shown["item"]["media_type"], media_type, "{shown}");
    let frames = shown["keyframes"]["frames"]
        .as_array()
        .unwrap_or_else(|| panic!("keyframes hashed: {shown}"));
    let times: Vec<u64> = frames
        .iter()
        .map(|f| f["at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times, [0, 1_000], "{shown}");
    // Transport and program streams have no header saying what they hold: the walk
    // for keyframes tells it.
    if ["video/mp2t", "video/mpeg"].contains(&media_type) {
        let stream = &shown["keyframes"]["stream"];
        assert_eq!(stream, facts, "{shown}");
        let text = env.run(&["show", &video]).ok().stdout;
        assert!(
            text.contains(&format!("video stream  {shown_as}")),
            "{text}"
        );
    } else {
        assert!(shown["keyframes"].get("stream").is_none(), "{shown}");
    }

    let found = env.run(&["similar", &b, "--json"]).ok().json();
    let n = neighbour(&found, name);
    assert!(n["distance"].as_u64().unwrap() <= 10, "{found}");
    assert_eq!(n["at_ms"].as_u64().unwrap(), 1_000, "{found}");
    let found = env.run(&["similar", &video, "--json"]).ok().json();
    assert_eq!(
        neighbour(&found, "still-b.jpg")["query_at_ms"],
        1_000,
        "{found}"
    );
    // Looked up from outside: the first scene, never ingested, is the video at 0:00,
    // and the video file itself is the item's very bytes.
    let found = env
        .run(&["similar", "--file", "make/a.png", "--json"])
        .ok()
        .json();
    assert_eq!(neighbour(&found, name)["at_ms"], 0, "{found}");
    let path = format!("dump/{name}");
    let found = env.run(&["similar", "--file", &path, "--json"]).ok().json();
    assert_eq!(found["file"]["media_type"], media_type, "{found}");
    assert_eq!(
        found["file"]["in_vault"],
        serde_json::json!([video]),
        "{found}"
    );
    assert_eq!(found["keyframes"].as_array().unwrap().len(), 2, "{found}");
    assert_eq!(
        neighbour(&found, "still-b.jpg")["query_at_ms"],
        1_000,
        "{found}"
    );
    env.run(&["verify"]).ok();
}

/// A voice memo in MP4 (brand `M4A `), and a voice message in WebM (Opus) or Matroska
/// audio, are audio: each type says so, `show` gives the length as audio, and no
/// keyframes are looked for in them.
#[test]
fn an_audio_recording_is_audio() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("dump")).unwrap();
    for (codec, out) in [
        ("aac", "dump/voice.m4a"),
        ("libopus", "dump/voice.webm"),
        ("flac", "dump/voice.mka"),
    ] {
        let args = ["-f", "lavfi", "-i", "sine=duration=2", "-c:a", codec, out];
        if !ffmpeg(&env, &args) {
            return;
        }
    }
    env.init();
    env.run(&["ingest", "dump"]).ok();
    for (name, media_type) in [
        ("voice.m4a", "audio/mp4"),
        ("voice.webm", "audio/webm"),
        ("voice.mka", "audio/x-matroska"),
    ] {
        let id = item_id(&env, name);
        let shown = env.run(&["show", &id, "--json"]).ok().json();
        assert_eq!(shown["item"]["media_type"], media_type, "{shown}");
        assert!(
            shown.get("keyframes").is_none_or(|k| k.is_null()),
            "{name}: {shown}"
        );
        let text = env.run(&["show", &id]).ok().stdout;
        assert!(text.contains("  audio         2.0 s"), "{name}: {text}");
        assert!(!text.contains("  keyframes     "), "{name}: {text}");
        assert!(!text.contains("could not"), "{name}: {text}");
        assert!(
            text.contains(&format!(
                "  perceptual hash none: {media_type} is sound, with no picture to hash"
            )),
            "{name}: {text}"
        );
    }
}

/// A case name can come from another vault's package: `similar`, `clusters` and `list`
/// write it visibly, so it can neither move the cursor nor begin a forged line.
#[test]
fn case_names_cannot_forge_lines_of_the_text_output() {
    let env = Env::new();
    env.init();
    let original = scene(2, 640, 480);
    let smaller =
        image::imageops::resize(&original, 320, 240, image::imageops::FilterType::Lanczos3);
    env.write("a.jpg", &jpeg(&original, 90));
    env.write("b.jpg", &jpeg(&smaller, 75));
    let hostile = "X\u{1b}[2A\u{1b}[2K\r  earliest provable appearance: forged\nY";
    env.run(&["ingest", "a.jpg", "--case", hostile]).ok();
    env.run(&["ingest", "b.jpg"]).ok();
    for args in [
        &["clusters"][..],
        &["similar", "ITM-000002"][..],
        &["list"][..],
    ] {
        let out = env.run(args).ok().stdout;
        assert!(
            !out.contains('\u{1b}') && !out.contains('\r'),
            "{args:?}: {out:?}"
        );
        assert!(
            out.contains(
                "X\\u{1b}[2A\\u{1b}[2K\\u{d}  earliest provable appearance: forged\\u{a}Y"
            ),
            "{args:?}: {out}"
        );
        assert!(
            !out.lines().any(|l| l
                .trim_start()
                .starts_with("earliest provable appearance: forged")),
            "{args:?}: {out}"
        );
    }
}

/// A copy mirrored or turned before it was posted again is not a near-duplicate of the
/// picture as it is; `--turned` finds it and says how it was turned, for an item and for
/// a file outside the vault. A stored copy that no longer gives its recorded hash is not
/// looked up turned.
#[test]
fn turned_finds_mirrored_and_turned_copies_and_says_how() {
    let env = Env::new();
    env.init();
    let original = scene(2, 800, 600);
    env.write("a/original.jpg", &jpeg(&original, 92));
    env.run(&["ingest", "a", "--case", "A"]).ok();
    let small = |img: &image::RgbImage| {
        let (w, h) = (img.width() * 3 / 5, img.height() * 3 / 5);
        image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
    };
    env.write(
        "b/mirrored.jpg",
        &jpeg(&small(&image::imageops::flip_horizontal(&original)), 75),
    );
    env.write(
        "b/quarter.jpg",
        &jpeg(&small(&image::imageops::rotate90(&original)), 75),
    );
    env.write("b/stranger.jpg", &jpeg(&scene(5, 800, 600), 92));
    env.run(&["ingest", "b", "--case", "B"]).ok();

    let neighbours = |r: &serde_json::Value| -> Vec<(String, Option<String>)> {
        r["neighbours"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["name"].as_str().unwrap().to_owned(),
                    n["turn"].as_str().map(str::to_owned),
                )
            })
            .collect()
    };
    let plain = env.run(&["similar", "ITM-000001", "--json"]).ok().json();
    assert_eq!(plain["turned"], false);
    assert!(neighbours(&plain).is_empty(), "{plain}");

    let r = env
        .run(&["similar", "ITM-000001", "--turned", "--json"])
        .ok()
        .json();
    assert_eq!(r["turned"], true);
    let first = r.clone();
    let mut found = neighbours(&r);
    found.sort();
    assert_eq!(
        found,
        [
            ("mirrored.jpg".to_owned(), Some("mirrored".to_owned())),
            (
                "quarter.jpg".to_owned(),
                Some("rotated-90-clockwise".to_owned())
            ),
        ],
        "{r}"
    );
    let text = env.run(&["similar", "ITM-000001", "--turned"]).ok().stdout;
    assert!(
        text.contains("as it is or mirrored or turned")
            && text.contains("mirrored.jpg  (like the asked picture mirrored left to right)")
            && text
                .contains("quarter.jpg  (like the asked picture turned a quarter turn clockwise)"),
        "{text}"
    );
    // From the mirrored copy, the original is the mirrored one; the quarter-turned copy
    // is the mirrored copy mirrored across its other diagonal.
    let r = env
        .run(&["similar", "ITM-000002", "--turned", "--json"])
        .ok()
        .json();
    let mut found = neighbours(&r);
    found.sort();
    assert_eq!(
        found,
        [
            ("original.jpg".to_owned(), Some("mirrored".to_owned())),
            ("quarter.jpg".to_owned(), Some("transversed".to_owned())),
        ],
        "{r}"
    );

    // A file found online, mirrored: looked up turned, it finds the original.
    env.write(
        "outside/found.jpg",
        &jpeg(&image::imageops::flip_horizontal(&original), 60),
    );
    let r = env
        .run(&[
            "similar",
            "--file",
            "outside/found.jpg",
            "--turned",
            "--json",
        ])
        .ok()
        .json();
    assert!(
        neighbours(&r).contains(&("original.jpg".to_owned(), Some("mirrored".to_owned()))),
        "{r}"
    );

    // The turned hashes recorded at ingest are used as they are: no stored copy is read
    // (a damaged one would be refused below), and the answer is the same.
    let blob = blob_path(
        &env.path("vault"),
        &sha256_hex(&std::fs::read(env.path("a/original.jpg")).unwrap()),
    );
    make_writable(&blob);
    std::fs::write(&blob, jpeg(&scene(7, 800, 600), 92)).unwrap();
    let recorded = env
        .run(&["similar", "ITM-000001", "--turned", "--json"])
        .ok()
        .json();
    assert_eq!(recorded["neighbours"], first["neighbours"], "{recorded}");
    assert_eq!(recorded.get("notes"), None, "{recorded}");

    // Records of an earlier build, without turned hashes: the stored copies are read
    // again, and a damaged one is refused, with what to do.
    catalog(&env, "UPDATE phashes SET turned = NULL");
    env.run(&["similar", "ITM-000001", "--turned"]).refused(
        "ITM-000001: not looked up turned: its stored copy no longer hashes to its SHA-256; run `custody verify --full`",
    );
    // A neighbour's stored copy damaged: it cannot be checked from its side, so it is
    // not named as a turned copy, and a note says so.
    let r = env
        .run(&["similar", "ITM-000002", "--turned", "--json"])
        .ok();
    let json = r.json();
    assert!(
        !neighbours(&json).iter().any(|(n, _)| n == "original.jpg"),
        "{json}"
    );
    assert_eq!(
        json["notes"],
        serde_json::json!([
            "ITM-000001 could not be checked as a turned copy: its stored copy no longer hashes to its SHA-256; run `custody verify --full`"
        ]),
        "{json}"
    );
    assert!(
        r.stderr.contains("note: ITM-000001 could not be checked"),
        "{}",
        r.stderr
    );
}

/// A video looked up turned: a still mirrored by hand from it is found, at the keyframe
/// that shows it, from the turned hashes recorded at ingest, and the same from the
/// video's stored copy read again where none were recorded (an earlier build's records).
#[test]
fn a_video_looked_up_turned_finds_a_mirrored_still() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data");
    let env = Env::new();
    env.init();
    env.write(
        "dump/clip.mp4",
        &std::fs::read(data.join("clip_h264.mp4")).unwrap(),
    );
    let picture = image::open(data.join("picture.png")).unwrap().to_rgb8();
    env.write(
        "dump/still.jpg",
        &jpeg(&image::imageops::flip_horizontal(&picture), 80),
    );
    env.run(&["ingest", "dump"]).ok();
    let clip = item_id(&env, "clip.mp4");
    let plain = env.run(&["similar", &clip, "--json"]).ok().json();
    assert_eq!(plain["neighbours"], serde_json::json!([]), "{plain}");
    let r = env
        .run(&["similar", &clip, "--turned", "--json"])
        .ok()
        .json();
    let n = &r["neighbours"].as_array().unwrap()[..];
    assert_eq!(n.len(), 1, "{r}");
    assert_eq!(n[0]["name"], "still.jpg", "{r}");
    assert_eq!(n[0]["turn"], "mirrored", "{r}");
    assert!(n[0]["query_at_ms"].is_u64(), "{r}");
    assert!(!r["keyframes"].as_array().unwrap().is_empty(), "{r}");
    assert_eq!(
        r["keyframes"], plain["keyframes"],
        "only upright hashes are listed"
    );
    catalog(&env, "UPDATE keyframe_hashes SET turned = NULL");
    catalog(&env, "UPDATE phashes SET turned = NULL");
    let again = env
        .run(&["similar", &clip, "--turned", "--json"])
        .ok()
        .json();
    assert_eq!(again["neighbours"], r["neighbours"], "{again}");
}

/// `clusters --turned` puts a mirrored copy in the group of what it copies, so the
/// group's earliest appearance is the original's; the member says how it was turned.
#[test]
fn clusters_turned_group_a_mirrored_copy_with_its_original() {
    let env = Env::new();
    env.init();
    let original = scene(3, 800, 600);
    env.write(
        "a/original.jpg",
        &with_capture_time(&jpeg(&original, 90), "2014:07:17 16:20:00"),
    );
    let mirrored = image::imageops::resize(
        &image::imageops::flip_horizontal(&original),
        560,
        420,
        image::imageops::FilterType::Triangle,
    );
    env.write(
        "a/reposted.jpg",
        &with_capture_time(&jpeg(&mirrored, 70), "2022:04:03 10:00:00"),
    );
    env.write("a/stranger.jpg", &jpeg(&scene(6, 800, 600), 90));
    env.run(&["ingest", "a"]).ok();
    let plain = env.run(&["clusters", "--json"]).ok().json();
    assert_eq!(plain["clusters"], serde_json::json!([]), "{plain}");

    let r = env.run(&["clusters", "--turned", "--json"]).ok().json();
    let clusters = r["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1, "{r}");
    let c = &clusters[0];
    let mut names = member_names(c);
    names.sort();
    assert_eq!(names, ["original.jpg", "reposted.jpg"], "{r}");
    let original_id = item_id(&env, "original.jpg");
    assert_eq!(c["earliest"]["item"], original_id.as_str(), "{r}");
    // A local time without its offset is taken as no later than +12 h UTC.
    assert!(
        c["earliest"]["at"]
            .as_str()
            .unwrap()
            .starts_with("2014-07-18T04:20"),
        "{r}"
    );
    let reposted = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "reposted.jpg")
        .unwrap();
    assert_eq!(reposted["turn"], "mirrored", "{r}");
    assert!(reposted["distance"].as_u64().unwrap() <= 10, "{r}");
    let text = env.run(&["clusters", "--turned"]).ok().stdout;
    assert!(
        text.contains(
            "near-duplicate groups within distance 10, as they are or mirrored or turned"
        ) && text.contains(&format!(
            "reposted.jpg  (like {original_id} mirrored left to right)"
        )),
        "{text}"
    );
    assert_eq!(
        (
            r["turned"].clone(),
            r["not_turned"].clone(),
            r["read_again"].clone()
        ),
        (true.into(), 0.into(), 0.into())
    );
    // The turned hashes recorded at ingest are used: the copy's stored bytes damaged
    // change nothing, as for plain `clusters` (`custody verify --full` finds damage).
    let blob = blob_path(&env.path("vault"), reposted["sha256"].as_str().unwrap());
    make_writable(&blob);
    std::fs::write(&blob, jpeg(&scene(8, 640, 480), 90)).unwrap();
    let recorded = env.run(&["clusters", "--turned", "--json"]).ok();
    assert_eq!(
        recorded.json()["clusters"],
        r["clusters"],
        "{}",
        recorded.stdout
    );
    assert!(!recorded.stderr.contains("note:"), "{}", recorded.stderr);

    // Records of an earlier build, without turned hashes: every stored copy is read
    // again, and said so. The damaged one cannot be checked from its side, so it is
    // grouped no more, and the count and a note say why.
    catalog(&env, "UPDATE phashes SET turned = NULL");
    let run = env.run(&["clusters", "--turned", "--json"]).ok();
    let r = run.json();
    assert_eq!(r["clusters"], serde_json::json!([]), "{r}");
    assert_eq!(r["read_again"], 3, "{r}");
    assert!(
        run.stderr.contains(
            "note: 3 of 3 items have no turned hashes in the catalog (extracted before they were recorded), so their stored copies were read again"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(r["not_turned"], 1, "{r}");
    assert!(
        run.stderr
            .contains("note: 1 of 3 items could not be read again to be turned"),
        "{}",
        run.stderr
    );
}
