//! What a caller sees when a TSA fails: one clear error per TSA.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use custody_timestamp::{StampOptions, TsaErrorKind, stamp, stamp_with};

use crate::{CHECKPOINT, Fixture, TIMEOUT, need_openssl, sha256};
use custody_testkit::pki::Key;
use custody_testkit::tsa::{Server, TsaConfig, chunked_response, http_response};

fn err(url: &str) -> custody_timestamp::TsaError {
    stamp(url, &sha256(CHECKPOINT), TIMEOUT).expect_err("the stamp should fail")
}

#[test]
fn connection_refused_names_the_address() {
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/tsa", l.local_addr().unwrap())
    };
    let e = err(&url);
    assert_eq!(e.url, url);
    assert!(matches!(e.kind, TsaErrorKind::Connect { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("cannot connect to 127.0.0.1:"), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn http_errors_quote_the_status_and_the_text() {
    let server = Server::start(Box::new(|_| {
        http_response(
            503,
            "Service Unavailable",
            "text/html",
            b"<h1>Down for\n maintenance</h1>",
        )
    }));
    let e = err(&server.url);
    match &e.kind {
        TsaErrorKind::HttpStatus { status, .. } => assert_eq!(*status, 503),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "TSA {}: HTTP status 503 Service Unavailable: <h1>Down for maintenance</h1>; check \
             the TSA URL",
            server.url
        )
    );
}

#[test]
fn a_web_page_is_not_a_time_stamp_response() {
    let server = Server::start(Box::new(|_| {
        http_response(200, "OK", "text/html", b"<html><body>Welcome</body></html>")
    }));
    let e = err(&server.url);
    assert!(
        matches!(e.kind, TsaErrorKind::NotTimeStampResp { .. }),
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("not a TimeStampResp (Content-Type: text/html)"),
        "{text}"
    );
    assert!(text.contains("Welcome"), "{text}");
}

#[test]
fn a_rejection_reports_status_and_fail_info() {
    need_openssl!();
    // This TSA accepts SHA-384 imprints only; openssl answers a SHA-256 query with a
    // rejection carrying failInfo badAlg.
    let fx = Fixture::new(
        Key::P256,
        TsaConfig {
            digests: "sha384",
            ..TsaConfig::default()
        },
    );
    let e = err(&fx.server.url);
    match &e.kind {
        TsaErrorKind::Rejected {
            status, fail_info, ..
        } => {
            assert_eq!(status, "rejection");
            assert!(fail_info.contains("badAlg"), "{fail_info}");
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("the TSA refused the request: status rejection, failInfo badAlg"),
        "{text}"
    );
}

/// A server that answers every query with the first answer the real TSA gave.
fn replaying(fx: &Fixture, first_digest: [u8; 32]) -> Server {
    let tsa = fx.tsa.clone();
    let stored: Arc<Mutex<Option<Vec<u8>>>> = Arc::new(Mutex::new(None));
    let first = custody_timestamp::request_der(&first_digest, &custody_timestamp::Nonce([7; 8]));
    let answer = tsa.reply(&first).unwrap();
    *stored.lock().unwrap() = Some(answer);
    Server::start(Box::new(move |_| {
        let body = stored.lock().unwrap().clone().unwrap();
        http_response(200, "OK", "application/timestamp-reply", &body)
    }))
}

#[test]
fn a_replayed_answer_fails_on_the_nonce() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let server = replaying(&fx, sha256(CHECKPOINT));
    let e = err(&server.url);
    match &e.kind {
        TsaErrorKind::NonceMismatch { got, .. } => assert_eq!(got, "0707070707070707"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("a replayed answer?"), "{e}");
}

#[test]
fn an_answer_for_other_data_fails_on_the_imprint() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let server = replaying(&fx, sha256(b"other data"));
    let e = err(&server.url);
    match &e.kind {
        TsaErrorKind::ImprintMismatch { sent, got } => {
            assert_eq!(sent, &format!("sha256:{}", hex::encode(sha256(CHECKPOINT))));
            assert_eq!(
                got,
                &format!("sha256:{}", hex::encode(sha256(b"other data")))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn chunked_answers_are_read() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let tsa = fx.tsa.clone();
    let server = Server::start(Box::new(move |query| {
        chunked_response(
            "application/timestamp-reply",
            &tsa.reply(query).unwrap(),
            100,
        )
    }));
    let s = stamp(&server.url, &sha256(CHECKPOINT), TIMEOUT).unwrap();
    assert!(s.response_der.len() > 300);
    assert!(s.response_der.ends_with(&s.token_der));
}

#[test]
fn a_silent_server_times_out() {
    let server = Server::start(Box::new(|_| {
        std::thread::sleep(Duration::from_secs(2));
        http_response(200, "OK", "application/timestamp-reply", b"")
    }));
    let started = std::time::Instant::now();
    let e = stamp(&server.url, &sha256(CHECKPOINT), Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e.kind, TsaErrorKind::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_millis(1900));
    assert!(
        e.to_string().contains("no complete answer within 300ms"),
        "{e}"
    );
}

#[test]
fn an_oversized_answer_is_refused() {
    let server = Server::start(Box::new(|_| {
        chunked_response("application/timestamp-reply", &vec![0x30; 70_000], 8192)
    }));
    let options = StampOptions {
        timeout: TIMEOUT,
        max_response: 64 * 1024,
    };
    let e = stamp_with(&server.url, &sha256(CHECKPOINT), &options).unwrap_err();
    assert!(
        matches!(e.kind, TsaErrorKind::TooLarge { limit: 65_536 }),
        "{e}"
    );

    let server = Server::start(Box::new(|_| {
        http_response(
            200,
            "OK",
            "application/timestamp-reply",
            &vec![0x30; 2 * 1024 * 1024],
        )
    }));
    let e = err(&server.url);
    assert!(
        matches!(e.kind, TsaErrorKind::TooLarge { limit: 1_048_576 }),
        "{e}"
    );
}

#[test]
fn https_and_bad_urls_are_refused_before_connecting() {
    let e = err("https://tsa.example.org/");
    assert!(matches!(e.kind, TsaErrorKind::HttpsNotSupported), "{e}");
    let e = err("tsa.example.org");
    assert!(matches!(e.kind, TsaErrorKind::InvalidUrl(_)), "{e}");
}
