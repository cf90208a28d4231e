"""Writes small seed corpora for the fuzz targets.

`hash`: synthetic (non-photographic) pictures of a few kilobytes, saved in every form the
hash reads (baseline JPEG in three samplings, optimised Huffman codes, progressive,
greyscale, restart markers, an EXIF orientation, PNG, WebP lossy and lossless, TIFF, and
HEIC when libheif's `heif-enc` is installed).

`keyframes` (`--videos`): tiny videos of ffmpeg's test pattern, a few kilobytes each, in
the forms the keyframe reader takes (H.264 in MP4 with B-frames and an edit list, a turned
track, a copy cut without re-encoding, HEVC in QuickTime, 10-bit HEVC, fragmented MP4
and CMAF, VP9 in WebM, H.264 in Matroska); needs ffmpeg with libx264, libx265 and
libvpx.

    python3 make_seeds.py corpus/hash                  # needs Pillow and numpy
    python3 make_seeds.py --videos corpus/keyframes    # needs ffmpeg
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    h, w = 264, 300  # a 1/8 image of at least 32x32 samples: the DC-only JPEG path
    y, x = np.mgrid[0:h, 0:w]
    grey = 128 + 60 * np.sin(x / 23.0) + 50 * np.cos(y / 17.0) + rng.normal(0, 6, (h, w))
    grey = grey.clip(0, 255).astype(np.uint8)
    rgb = Image.fromarray(np.stack([grey, np.roll(grey, 40, 1), 255 - grey], -1), "RGB")
    g = Image.fromarray(grey, "L")
    rgb.save(out / "baseline420.jpg", quality=40)
    rgb.save(out / "baseline444.jpg", quality=40, subsampling=0)
    rgb.save(out / "baseline422.jpg", quality=40, subsampling=1)
    rgb.save(out / "optimized.jpg", quality=40, optimize=True)
    rgb.save(out / "progressive.jpg", quality=40, progressive=True)
    rgb.save(out / "restart.jpg", quality=40, restart_marker_blocks=7)
    if b"\xff\xd0" not in (out / "restart.jpg").read_bytes():
        sys.exit("this Pillow wrote no restart markers (restart_marker_blocks); upgrade it")
    g.save(out / "grey.jpg", quality=40)
    g.save(out / "grey-progressive.jpg", quality=40, progressive=True)
    exif = rgb.getexif()
    exif[0x0112] = 6  # orientation: rotated 90 degrees
    rgb.save(out / "oriented.jpg", quality=40, exif=exif)
    small = rgb.resize((120, 90))  # below the DC path's size: the general decoder
    small.save(out / "small.jpg", quality=40)
    small.save(out / "small.png")
    small.save(out / "small.webp", quality=40)
    small.save(out / "small-lossless.webp", lossless=True)
    small.save(out / "small.tif")
    if shutil.which("heif-enc"):
        subprocess.run(["heif-enc", "-q", "30", "-o", str(out / "small.heic"),
                        str(out / "small.png")], check=True, capture_output=True)
    else:
        print("heif-enc not found: no HEIC seed written")


def videos(out: Path) -> None:
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg not found: install it (apt-get install ffmpeg) to write video seeds")
    out.mkdir(parents=True, exist_ok=True)

    def ff(*args: str) -> None:
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", *args, "-y"],
                       check=True)

    pattern = "testsrc2=size=64x48:rate=4:duration=2"
    x265 = "log-level=error:keyint=3:min-keyint=3"
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "3",
       "-bf", "2", str(out / "h264.mp4"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90",
       str(out / "h264-turned.mp4"))
    ff("-ss", "0.9", "-i", str(out / "h264.mp4"), "-c", "copy", str(out / "h264-cut.mp4"))
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libx265", "-x265-params", x265,
       "-pix_fmt", "yuv420p", "-tag:v", "hvc1", str(out / "hevc.mov"))
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libx265", "-x265-params", x265,
       "-pix_fmt", "yuv420p10le", "-tag:v", "hev1", str(out / "hevc10.mp4"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", "-movflags", "frag_keyframe+empty_moov",
       str(out / "h264-fragmented.mp4"))
    ff("-i", str(out / "hevc10.mp4"), "-c", "copy", "-movflags", "cmaf",
       str(out / "hevc10-cmaf.mp4"))
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libvpx-vp9", "-g", "3", "-b:v", "50k",
       "-deadline", "realtime", "-cpu-used", "8", str(out / "vp9.webm"))
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libvpx", "-g", "3", "-b:v", "50k",
       "-deadline", "realtime", "-cpu-used", "8", str(out / "vp8.webm"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", str(out / "h264.mkv"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", str(out / "h264.ts"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", str(out / "h264.flv"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", str(out / "h264.avi"))
    ff("-f", "lavfi", "-i", "testsrc2=size=32x24:rate=5:duration=1", "-c:v", "mjpeg",
       str(out / "mjpeg.avi"))
    ff("-i", str(out / "hevc10.mp4"), "-c", "copy", "-mpegts_m2ts_mode", "1", "-f", "mpegts",
       str(out / "hevc10.m2ts"))
    ff("-i", str(out / "h264.mp4"), "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "vob",
       str(out / "h264.vob"))
    ff("-i", str(out / "hevc10.mp4"), "-c", "copy", "-bsf:v", "hevc_mp4toannexb", "-f", "mpeg",
       str(out / "hevc10-mpeg1-system.mpg"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--videos":
        videos(Path(sys.argv[2]))
    elif len(sys.argv) == 2:
        main(Path(sys.argv[1]))
    else:
        sys.exit("usage: make_seeds.py OUT_FOLDER | make_seeds.py --videos OUT_FOLDER")
