//! `report.html`: what a package holds and how to check it by hand, for people.
//!
//! Self-contained (no scripts, no external resources) so it renders the same offline,
//! years later. Everything shown is taken from the package's own verified files.

use std::collections::BTreeMap;

use custody_ledger::{Checkpoint, Entry};
use custody_model::Timestamp;

use crate::export::PackagedItem;
use crate::timestamps::RecordedToken;

pub struct ReportInput<'a> {
    pub vault_name: &'a str,
    pub origin: &'a str,
    pub vkey: &'a str,
    pub case: Option<&'a str>,
    pub exported_at: Timestamp,
    pub exported_by: &'a str,
    pub checkpoint: &'a Checkpoint,
    pub items: &'a [PackagedItem],
    pub entries: &'a [Entry],
    pub tokens: &'a [RecordedToken],
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn size(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else if bytes < 1_000_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.2} GB", bytes as f64 / 1e9)
    }
}

/// A one-line description of what an entry records.
fn describe(e: &Entry) -> String {
    let d = &e.details;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match e.action.as_str() {
        "item.collected" => format!(
            "collected{}{}{}; original name {}",
            if s("collected_by").is_empty() {
                String::new()
            } else {
                format!(" by {}", s("collected_by"))
            },
            if s("source").is_empty() {
                String::new()
            } else {
                format!(" from {}", s("source"))
            },
            if s("method").is_empty() {
                String::new()
            } else {
                format!(" ({})", s("method"))
            },
            s("original_name")
        ),
        "item.received" => format!(
            "received from another vault ({})",
            d.get("upstream")
                .and_then(|u| u.get("origin"))
                .and_then(|o| o.as_str())
                .unwrap_or("?")
        ),
        "item.derived" => format!(
            "redacted copy of {} made: {}",
            s("derived_from"),
            d.get("redaction")
                .and_then(|r| r.get("reason"))
                .and_then(|r| r.as_str())
                .unwrap_or("")
        ),
        "item.read" => format!(
            "read, verified, to {}{}",
            s("destination"),
            if s("purpose").is_empty() {
                String::new()
            } else {
                format!(" for {}", s("purpose"))
            }
        ),
        "item.annotated" => format!("note added: {}", s("note")),
        "metadata.extracted" => format!(
            "metadata extracted by {} {}",
            s("extractor"),
            s("extractor_version")
        ),
        "checkpoint.timestamped" => format!(
            "checkpoint {} timestamped by {} at {}",
            d.get("checkpoint_size")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            s("tsa"),
            s("gen_time")
        ),
        "vault.created" => format!("vault \"{}\" created", s("name")),
        "key.created" => "ledger signing key created".to_owned(),
        other => other.to_owned(),
    }
}

pub fn package_report(r: &ReportInput<'_>) -> String {
    let by_seq: BTreeMap<u64, &Entry> = r.entries.iter().map(|e| (e.seq, e)).collect();
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>Evidence package — {}</title>\n",
        esc(r.case.unwrap_or(r.vault_name))
    ));
    h.push_str(
        "<style>body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em;line-height:1.4}\
         table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}\
         code,pre{font-family:monospace;font-size:.9em;word-break:break-all}pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}\
         .withheld{color:#a00}</style>\n</head>\n<body>\n",
    );
    h.push_str(&format!(
        "<h1>Evidence package{}</h1>\n",
        r.case
            .map(|c| format!(" — case {}", esc(c)))
            .unwrap_or_default()
    ));
    h.push_str(&format!(
        "<p>Prepared by <b>{}</b> (vault <code>{}</code>) on {} by {}. The package is a BagIt 1.0 bag: the original \
         bytes are under <code>data/</code>; their custody records, proofs and signatures under <code>custody/</code>.</p>\n",
        esc(r.vault_name),
        esc(r.origin),
        esc(&r.exported_at.to_string()),
        esc(r.exported_by)
    ));

    h.push_str("<h2>Contents</h2>\n<table>\n<tr><th>Item</th><th>Original name</th><th>Size</th><th>SHA-256</th><th>In this package</th></tr>\n");
    for i in r.items {
        let place = match (&i.payload, &i.withheld) {
            (Some(p), _) => format!("<code>{}</code>", esc(p)),
            (None, Some(why)) => format!("<span class=\"withheld\">withheld: {}</span>", esc(why)),
            (None, None) => "withheld".into(),
        };
        let derived = i
            .derived_from
            .as_ref()
            .map(|d| format!("<br>redacted copy of {}", esc(d)))
            .unwrap_or_default();
        h.push_str(&format!(
            "<tr><td>{}{derived}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{place}</td></tr>\n",
            esc(&i.id),
            esc(&i.original_name),
            size(i.size),
            i.sha256
        ));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Custody timeline per item</h2>\n");
    for i in r.items {
        h.push_str(&format!("<h3>{} — {}</h3>\n<table>\n<tr><th>Entry</th><th>Time (UTC)</th><th>Actor</th><th>What happened</th></tr>\n", esc(&i.id), esc(&i.original_name)));
        for seq in &i.history {
            if let Some(e) = by_seq.get(seq) {
                h.push_str(&format!(
                    "<tr><td>{seq}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    esc(&e.time.to_string()),
                    esc(&e.actor),
                    esc(&describe(e))
                ));
            }
        }
        h.push_str("</table>\n");
    }

    h.push_str("<h2>Signed checkpoint and timestamps</h2>\n");
    h.push_str(&format!(
        "<p>Every entry above is in the vault's ledger, a Merkle tree (RFC 6962) whose checkpoint of size {} with root \
         <code>{}</code> is signed with the key</p>\n<pre>{}</pre>\n",
        r.checkpoint.size,
        esc(&r.checkpoint.root.to_base64()),
        esc(r.vkey)
    ));
    if r.tokens.is_empty() {
        h.push_str("<p>No RFC 3161 timestamp was obtained for these checkpoints.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>Checkpoint</th><th>Time-stamping authority</th><th>Time (genTime)</th><th>Token</th></tr>\n");
        for t in r.tokens {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>custody/timestamps/{}</code></td></tr>\n",
                t.checkpoint_size,
                esc(&t.tsa),
                esc(&t.gen_time),
                esc(&t.token)
            ));
        }
        h.push_str("</table>\n");
    }

    h.push_str(
        "<h2>How to check this package by hand</h2>\n<ol>\n\
         <li>Obtain the sender's verifier key by your own means (not only from this package) and compare it with \
         <code>custody/vkey</code>.</li>\n\
         <li>Check every file against the manifests, from the package's top directory:\
         <pre>sha256sum -c manifest-sha256.txt &amp;&amp; sha256sum -c tagmanifest-sha256.txt</pre>\
         or with bagit-python: <pre>bagit.py --validate .</pre></li>\n\
         <li>Check an item's bytes against its ledger entry: the SHA-256 in <code>custody/items.json</code> must equal \
         the <code>sha256</code> member of the entry in <code>custody/entries/</code> numbered as the item's entry, and \
         the line of <code>manifest-sha256.txt</code> for its file.</li>\n\
         <li>Check that an entry is in the signed ledger. Its leaf hash is\
         <pre>(printf '\\000'; cat custody/entries/NNNNNNNNNNNNNNNNNNNN.json) | openssl dgst -sha256 -binary | base64</pre>\
         Combine it with the hashes of <code>custody/proofs/NNNNNNNNNNNNNNNNNNNN.json</code> as RFC 9162 §2.1.3.2 \
         describes; the result must be the root on the third line of <code>custody/checkpoint</code>.</li>\n\
         <li>Check the checkpoint's signature with the verifier key (a C2SP signed note, Ed25519), e.g. with Go's \
         <code>golang.org/x/mod/sumdb/note</code>.</li>\n\
         <li>Check each timestamp with OpenSSL, using the TSA's root certificate obtained by your own means:\
         <pre>openssl ts -verify -data custody/checkpoints/&lt;size&gt; -in custody/timestamps/&lt;size&gt;/&lt;token&gt;.tst \
-token_in -CAfile tsa-root.pem -untrusted custody/timestamps/&lt;size&gt;/&lt;token&gt;.certs.pem</pre></li>\n\
         <li>Or run <code>custody verify-package .</code>, which does all of the above.</li>\n</ol>\n",
    );
    h.push_str("</body>\n</html>\n");
    h
}
