//! The decoder itself, through `rav1d`'s dav1d-compatible C interface: one context,
//! one thread, the OBUs sent, the first picture shown taken, the context closed.
//!
//! A panic inside `rav1d` aborts the process here (crate documentation): only the
//! decoding child and tests on known-good streams call this.

#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use crate::Picture;

/// dav1d's "try again" (`DAV1D_ERR(EAGAIN)`).
const AGAIN: i32 = -libc::EAGAIN;

/// Rounds of sending and taking before a stream that neither takes data nor gives a
/// picture is given up on.
const MAX_ROUNDS: usize = 64;

/// A decoder context, closed when dropped.
struct Context(Option<Dav1dContext>);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the context came from `dav1d_open` and is closed only here, once.
        unsafe { dav1d_close(NonNull::new(&mut self.0)) };
    }
}

/// Data handed to the decoder, released when dropped (a no-op once all is consumed).
struct Data(Dav1dData);

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: the data came from `dav1d_data_create`; unref takes a consumed or
        // partly consumed buffer alike.
        unsafe { dav1d_data_unref(NonNull::new(&mut self.0)) };
    }
}

/// A picture the decoder gave, released when dropped.
struct Shown(Dav1dPicture);

impl Drop for Shown {
    fn drop(&mut self) {
        // SAFETY: the picture was written by `dav1d_get_picture` and is unreferenced
        // only here, once.
        unsafe { dav1d_picture_unref(NonNull::new(&mut self.0)) };
    }
}

fn describe(code: i32) -> String {
    match -code {
        libc::EINVAL => "the AV1 data is not a valid stream".into(),
        libc::ENOMEM => "the AV1 picture needs more memory than it may have".into(),
        libc::ENOPROTOOPT => "the AV1 stream uses a feature the decoder does not have".into(),
        libc::ERANGE => "the AV1 stream declares a size out of range".into(),
        e => format!("the AV1 decoder gave error {e}"),
    }
}

pub(crate) fn decode(obus: &[u8], max_pixels: u64) -> Result<Picture, String> {
    if obus.is_empty() {
        return Err("there are no AV1 data to decode".into());
    }
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes every field of the settings.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new(settings.as_mut_ptr()).expect("not null"));
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    // Film grain is noise laid over the picture when shown: the picture is the same
    // without it, and the hash should not see the noise.
    settings.apply_grain = 0;
    settings.all_layers = 0;
    // 0 would mean no limit to the decoder.
    settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX).max(1);

    let mut context = Context(None);
    // SAFETY: both pointers are to live locals of the right types.
    let opened = unsafe {
        dav1d_open(
            NonNull::new(&mut context.0),
            NonNull::new(&mut settings as *mut Dav1dSettings),
        )
    };
    let c = match (opened.0, context.0) {
        (0, Some(c)) => c,
        (code, _) => return Err(format!("the AV1 decoder cannot start: {}", describe(code))),
    };

    let mut data = Data(Dav1dData::default());
    // SAFETY: `data.0` is a live `Dav1dData` for the call to fill.
    let buffer = unsafe { dav1d_data_create(NonNull::new(&mut data.0), obus.len()) };
    if buffer.is_null() {
        return Err("the AV1 decoder cannot hold the data".into());
    }
    // SAFETY: `dav1d_data_create` returned a buffer of `obus.len()` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(obus.as_ptr(), buffer, obus.len()) };

    let mut shown = Shown(Dav1dPicture::default());
    for _ in 0..MAX_ROUNDS {
        if data.0.sz > 0 {
            // SAFETY: `c` is open; `data.0` is the decoder's own buffer.
            let sent = unsafe { dav1d_send_data(Some(c), NonNull::new(&mut data.0)) }.0;
            if sent != 0 && sent != AGAIN {
                return Err(describe(sent));
            }
        }
        // SAFETY: `c` is open; `shown.0` is a live picture for the call to fill.
        let got = unsafe { dav1d_get_picture(Some(c), NonNull::new(&mut shown.0)) }.0;
        match got {
            0 => return luma(&shown.0, max_pixels),
            AGAIN if data.0.sz == 0 => {
                return Err("the AV1 data hold no picture that is shown".into());
            }
            AGAIN => {}
            code => return Err(describe(code)),
        }
    }
    Err("the AV1 decoder took none of the data".into())
}

/// The picture's luma plane, 8 bits a sample.
fn luma(p: &Dav1dPicture, max_pixels: u64) -> Result<Picture, String> {
    let (w, h) = (p.p.w, p.p.h);
    let (Ok(width), Ok(height)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err("the AV1 picture has no size".into());
    };
    let samples = u64::from(width) * u64::from(height);
    if samples == 0 {
        return Err("the AV1 picture has no size".into());
    }
    if samples > max_pixels {
        return Err(format!(
            "the AV1 picture is {width}×{height} pixels, more than the limit of {max_pixels}"
        ));
    }
    let Some(plane) = p.data[0] else {
        return Err("the AV1 decoder gave no luma plane".into());
    };
    let (w, h) = (width as usize, height as usize);
    let stride = p.stride[0];
    let deep = p.p.bpc > 8;
    let shift = u32::try_from(p.p.bpc - 8).unwrap_or(0).min(8);
    let row_bytes = if deep { 2 * w } else { w };
    if stride.unsigned_abs() < row_bytes {
        return Err("the AV1 decoder gave a plane narrower than its picture".into());
    }
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        // SAFETY: the decoder's plane holds `h` rows of `w` samples, `stride` bytes
        // apart (checked above not to overlap); the picture is held until `p` is
        // released.
        let row = unsafe {
            let start = plane.as_ptr().cast::<u8>().offset(stride * y as isize);
            std::slice::from_raw_parts(start, row_bytes)
        };
        if deep {
            out.extend(
                row.chunks_exact(2)
                    .map(|s| (u16::from_ne_bytes([s[0], s[1]]) >> shift).min(255) as u8),
            );
        } else {
            out.extend_from_slice(row);
        }
    }
    Ok(Picture {
        width,
        height,
        luma: out,
    })
}

/// Lowers this process's address-space limit to `bytes` (never raises it). Where the
/// system refuses, the process goes on under the limit it had.
#[cfg(unix)]
pub(crate) fn limit_address_space(bytes: u64) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `current` is a live `rlimit` for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut current) } != 0 {
        return;
    }
    let wanted = bytes as libc::rlim_t;
    if current.rlim_cur != libc::RLIM_INFINITY && current.rlim_cur <= wanted {
        return;
    }
    let lowered = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: current.rlim_max,
    };
    // SAFETY: `lowered` is a valid `rlimit`; lowering the soft limit needs no privilege.
    unsafe { libc::setrlimit(libc::RLIMIT_AS, &lowered) };
}

#[cfg(not(unix))]
pub(crate) fn limit_address_space(_bytes: u64) {}
