#!/usr/bin/env python3
"""Writes the synthetic test pictures in this folder (Pillow, numpy; fixed seed).

One picture (gradients and flat shapes, nothing else) in the encodings the hash must
agree across: baseline, progressive and greyscale progressive JPEG, JPEG with restart
markers, 4:4:4 and 4:2:2 chroma sampling, PNG, WebP and Deflate-compressed TIFF (at half size).
"""
import numpy as np
from PIL import Image, ImageDraw

w, h = 480, 360
rng = np.random.default_rng(7)
y, x = np.mgrid[0:h, 0:w]
r = (128 + 100 * np.sin(x / 37.0)).astype(np.uint8)
g = (128 + 100 * np.cos(y / 23.0)).astype(np.uint8)
b = ((x * 255) // w).astype(np.uint8)
img = Image.fromarray(np.dstack([r, g, b]), "RGB")
d = ImageDraw.Draw(img)
for _ in range(12):
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    d.rectangle([x0, y0, x0 + int(rng.integers(10, 120)), y0 + int(rng.integers(10, 120))],
                fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    d.ellipse([y0, x0 // 2, y0 + 60, x0 // 2 + 40],
              fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
img.save("baseline.jpg", quality=85)
img.save("progressive.jpg", quality=85, progressive=True)
img.convert("L").save("progressive_gray.jpg", quality=85, progressive=True)
img.save("restart.jpg", quality=85, restart_marker_blocks=7)
img.save("sampling444.jpg", quality=90, subsampling=0)
img.save("sampling422.jpg", quality=90, subsampling=1)
img.save("picture.png")
img.save("picture.webp", quality=80)
img.resize((240, 180), Image.LANCZOS).save("picture.tif", compression="tiff_adobe_deflate")

# HEIC through libheif's encoder (x265), if it is installed: `apt-get install libheif-examples`.
import shutil, subprocess, sys
if shutil.which("heif-enc"):
    subprocess.run(["heif-enc", "-q", "60", "-o", "picture.heic", "picture.png"], check=True)
else:
    print("heif-enc not found: picture.heic left as it is")

# Videos through ffmpeg (libx264, libx265), if it is installed: `apt-get install ffmpeg`.
# Two seconds of the picture at 10 fps with a keyframe every ten frames (H.264 in MP4,
# HEVC in QuickTime), the H.264 one again with a turned track, and three seconds of
# ffmpeg's moving test pattern (H.264 with B-frames; 10-bit HEVC; VP9 and VP8 in WebM;
# MPEG-2 and MPEG-1 in transport streams),
# and that H.264 as a fragmented MP4, an MPEG transport stream, Flash Video, AVI and an
# MPEG program stream.
if shutil.which("ffmpeg"):
    def ff(*args):
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", *args, "-y"], check=True)
    ff("-loop", "1", "-i", "picture.png", "-t", "2", "-r", "10", "-c:v", "libx264",
       "-pix_fmt", "yuv420p", "-g", "10", "clip_h264.mp4")
    ff("-loop", "1", "-i", "picture.png", "-t", "2", "-r", "10", "-c:v", "libx265",
       "-x265-params", "log-level=error:keyint=10", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
       "clip_hevc.mov")
    ff("-i", "clip_h264.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90", "clip_rotated.mp4")
    pattern = "testsrc2=size=320x240:rate=10:duration=3"
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10",
       "-bf", "2", "moving.mp4")
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libx265",
       "-x265-params", "log-level=error:keyint=10:min-keyint=10", "-pix_fmt", "yuv420p10le",
       "-tag:v", "hvc1", "moving_hevc10.mp4")
    # The moving H.264 as a fragmented MP4 (frames in movie fragments, an empty index).
    ff("-i", "moving.mp4", "-c", "copy", "-movflags", "frag_keyframe+empty_moov",
       "moving_fragmented.mp4")
    # The moving H.264 as an MPEG transport stream, as a live stream is recorded.
    ff("-i", "moving.mp4", "-c", "copy", "moving.ts")
    # And as Flash Video, as an RTMP live stream is recorded.
    ff("-i", "moving.mp4", "-c", "copy", "moving.flv")
    # And in AVI, as dashcams and CCTV exports write it.
    ff("-i", "moving.mp4", "-c", "copy", "moving.avi")
    # And as an MPEG program stream in 2 KiB packs, as DVD-style muxers write it.
    ff("-i", "moving.mp4", "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "vob",
       "moving.mpg")
    # The moving pattern as MPEG-2 video in a transport stream, as a broadcast is
    # recorded, interlaced with field DCT and the second coefficient table.
    # (MPEG-1 and MPEG-2 know no 10 fps: 25, a keyframe a second; small, for the
    # mutation tests.)
    pal = "testsrc2=size=176x144:rate=25:duration=2"
    ff("-f", "lavfi", "-i", pal, "-c:v", "mpeg2video", "-g", "25", "-bf", "2",
       "-q:v", "10", "-flags", "+ildct+ilme", "-intra_vlc", "1", "moving_mpeg2.ts")
    # The moving pattern as MPEG-1 video, in a transport stream too (in a program stream
    # this small, its second keyframe would begin inside a packet and have no time).
    ff("-f", "lavfi", "-i", pal, "-c:v", "mpeg1video", "-g", "25", "-q:v", "10",
       "moving_mpeg1.ts")
    # The moving pattern as MPEG-4 Part 2: Xvid in AVI (Advanced Simple: B-VOPs,
    # quarter samples, video packets), and a phone's 3GP with data partitioning.
    ff("-f", "lavfi", "-i", pal, "-c:v", "mpeg4", "-vtag", "XVID", "-g", "25", "-bf", "2",
       "-flags", "+qpel", "-ps", "400", "-q:v", "10", "moving_mpeg4.avi")
    ff("-f", "lavfi", "-i", "testsrc2=size=176x144:rate=15:duration=2", "-c:v", "mpeg4",
       "-g", "15", "-ps", "400", "-data_partitioning", "1", "-q:v", "10", "-threads", "1",
       "moving_mpeg4.3gp")
    # As Sorenson H.263 in FLV, as Flash video of the 2000s was.
    ff("-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25:duration=2", "-c:v", "flv",
       "-g", "25", "-q:v", "12", "moving_sorenson.flv")
    # And as H.263, as older phones wrote 3GP, with a header for every group of blocks.
    ff("-f", "lavfi", "-i", "testsrc2=size=176x144:rate=15:duration=2", "-c:v", "h263",
       "-g", "15", "-ps", "200", "-q:v", "10", "moving_h263.3gp")
    # The moving pattern as VP9 in WebM (libvpx), as YouTube serves video.
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libvpx-vp9", "-g", "10", "-b:v", "200k",
       "-deadline", "realtime", "-cpu-used", "8", "moving_vp9.webm")
    # VP8 in WebM (libvpx), as older web video and browsers' recorders write it.
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libvpx", "-g", "10", "-b:v", "200k",
       "-deadline", "realtime", "-cpu-used", "8", "moving_vp8.webm")
    # AV1 (libaom) in MP4 and in WebM, as video sites serve it and downloaders keep it.
    ff("-f", "lavfi", "-i", pattern, "-c:v", "libaom-av1", "-cpu-used", "8", "-crf", "40",
       "-g", "10", "-pix_fmt", "yuv420p", "moving_av1.mp4")
    ff("-i", "moving_av1.mp4", "-c", "copy", "moving_av1.webm")
    # An animated AVIF (an image sequence, brand `avis`): one second of the picture.
    ff("-loop", "1", "-i", "picture.png", "-t", "1", "-r", "5", "-c:v", "libaom-av1",
       "-cpu-used", "8", "-crf", "40", "-pix_fmt", "yuv420p", "-f", "avif", "animated.avif")
    # A 10-bit AVIF still through ffmpeg's AVIF muxer.
    ff("-i", "picture.png", "-c:v", "libaom-av1", "-still-picture", "1", "-crf", "30",
       "-pix_fmt", "yuv420p10le", "picture10.avif")
else:
    print("ffmpeg not found: the videos are left as they are")

# AVIF through libheif's encoder (aom), and as a 2×2 grid of tiles through libavif's
# `avifenc` (`apt-get install libavif-bin`), if they are installed.
if shutil.which("heif-enc"):
    subprocess.run(["heif-enc", "-A", "-q", "60", "-o", "picture.avif", "picture.png"],
                   check=True)
if shutil.which("avifenc"):
    subprocess.run(["avifenc", "--grid", "2x2", "-s", "8", "--min", "20", "--max", "40",
                    "picture.png", "picture_grid.avif"], check=True, stdout=subprocess.DEVNULL)
else:
    print("avifenc not found: picture_grid.avif left as it is")

# The HEIC and the AVIF turned a quarter anticlockwise, then mirrored (axis 0), by their
# own properties.
for ext in ["heic", "avif"]:
    subprocess.run([sys.executable, "heif_transform.py", f"picture.{ext}",
                    f"picture_turned_mirrored.{ext}", "irot=1", "imir=0"], check=True)
