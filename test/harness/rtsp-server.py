#!/usr/bin/python3
"""A GStreamer RTSP server for the video relay's tests and benchmark.

Usage: /usr/bin/python3 test/harness/rtsp-server.py PORT [--file MOUNT=PATH.mp4 ...]

Mounts (RTSP over TCP or UDP, as the client asks):
  /h264-1080  live H.264 test pattern, 1920x1080 25 fps, keyframe every 30 frames (x264enc zerolatency)
  /h264-720   the same at 1280x720
  /h264-360   the same at 640x360 (cheap: what most tests use on a 2-core machine)
  /mjpeg      Motion JPEG at 640x360: a non-H.264 codec, for the MPEG-1/JSMpeg fallback path
              (MPEG-4 part 2 via avenc_mpeg4 fails here with "Invalid pts" on a live source, so it is not offered)
  MOUNT       for each --launch MOUNT=PIPELINE: that gst-launch pipeline (ending in a payloader named pay0)
  MOUNT       for each --file: an H.264 MP4 streamed without re-encoding (qtdemux ! h264parse ! rtph264pay),
              one pipeline per client from the start of the file, paced in real time. The benchmark uses it so
              that it measures the relay, not x264.

Every mount gives each client its own pipeline (not shared). gst-rtsp-server 1.22's shared media crash the
whole server under client churn — clients that connect and vanish mid-setup, as the relay's restarts and the
tests' SIGKILLs do — with assertions such as `gst_rtsp_media_get_rates: assertion failed` and
`create_and_plug_queue_to_linked_stream_probe_cb` (reproduced here in 23-79 rounds of three ffmpegs killed
0.1-0.9 s after connecting; unshared, 240 rounds without a fault). The relay already shares one ffmpeg between
viewers, so a camera here rarely has more than two clients and the extra encoders cost little at 360p.

Every pipeline is built once before listening: a missing GStreamer element stops the server at start (exit 3, naming it) instead of a 5XX to each client.
Prints "READY <port>" on stdout once listening.
"""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)


def live_h264(width, height):
    return (
        "( videotestsrc is-live=true pattern=smpte ! "
        f"video/x-raw,width={width},height={height},framerate=25/1 ! "
        "clockoverlay font-desc=\"Sans 24\" ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=2000 ! "
        "video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


LAUNCH = {
    "/h264-1080": live_h264(1920, 1080),
    "/h264-720": live_h264(1280, 720),
    "/h264-360": live_h264(640, 360),
    "/mjpeg": (
        "( videotestsrc is-live=true pattern=smpte ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 ! "
        "jpegenc quality=70 ! rtpjpegpay name=pay0 pt=26 )"
    ),
}


def file_h264(path):
    return f"( filesrc location={path} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    port = sys.argv[1]
    files = {}
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--file" and args:
            mount, path = args.pop(0).split("=", 1)
            files[mount if mount.startswith("/") else "/" + mount] = path
        elif a == "--launch" and args:
            mount, launch = args.pop(0).split("=", 1)
            LAUNCH[mount if mount.startswith("/") else "/" + mount] = f"( {launch} )"
        else:
            print(f"unknown argument {a}", file=sys.stderr)
            sys.exit(2)

    # Build every pipeline once before listening: a missing element (clockoverlay is in gstreamer1.0-x,
    # x264enc in gstreamer1.0-plugins-ugly …) must stop the server at start with its name, not make it answer
    # every client with 5XX later (gst-rtsp-server builds a mount's pipeline only when a client asks for it).
    problems = []
    for path, launch in list(LAUNCH.items()) + [(m, file_h264(f)) for m, f in files.items()]:
        try:
            Gst.parse_launch(launch.strip().strip("()"))
        except GLib.Error as e:
            problems.append(f"{path}: {e.message}")
    if problems:
        print("cannot build the RTSP test pipelines (install the GStreamer plugins named in "
              "scripts/system-requirements.js):\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(3)

    server = GstRtspServer.RTSPServer()
    server.set_service(port)
    mounts = server.get_mount_points()

    def add(path, launch):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(False)  # see the docstring: shared media crash under client churn
        mounts.add_factory(path, factory)

    for path, launch in LAUNCH.items():
        add(path, launch)
    for path, f in files.items():
        add(path, file_h264(f))

    if server.attach(None) == 0:
        print(f"cannot listen on port {port}", file=sys.stderr)
        sys.exit(1)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {port}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
