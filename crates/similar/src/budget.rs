//! How much the pictures being decoded in full (the general image decoder, HEIC/HEIF)
//! hold at once, across threads: ingest examines a file per worker, and a few large
//! pictures decoded together must not take more memory than one at the limit would.

use std::sync::{Condvar, Mutex};

use crate::MAX_DECODE_ALLOC;

static HELD: Mutex<u64> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A share of the budget, given back when dropped.
pub(crate) struct Held(u64);

/// Waits until `bytes` (at most the whole budget) fit beside what is held.
pub(crate) fn take(bytes: u64) -> Held {
    let bytes = bytes.min(MAX_DECODE_ALLOC);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    while *held + bytes > MAX_DECODE_ALLOC {
        held = FREED.wait(held).unwrap_or_else(|e| e.into_inner());
    }
    *held += bytes;
    Held(bytes)
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        *held -= self.0;
        FREED.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    /// A decode that would take the budget past its limit waits for one to end;
    /// small ones go beside each other.
    #[test]
    fn large_decodes_wait_for_each_other() {
        let big = MAX_DECODE_ALLOC * 3 / 4;
        let first = take(big);
        let small = take(MAX_DECODE_ALLOC / 8);
        drop(small);
        let started = Arc::new(Barrier::new(2));
        let got = Arc::new(AtomicBool::new(false));
        let second = {
            let (started, got) = (started.clone(), got.clone());
            std::thread::spawn(move || {
                started.wait();
                let held = take(big);
                got.store(true, Ordering::SeqCst);
                drop(held);
            })
        };
        started.wait();
        std::thread::sleep(Duration::from_millis(200));
        assert!(!got.load(Ordering::SeqCst), "both held at once");
        drop(first);
        second.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
    }
}
