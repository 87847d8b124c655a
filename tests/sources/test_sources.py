import subprocess

import cv2
import numpy as np
import pytest

from emotrace.errors import SourceError
from emotrace.sources import ArraySource, FolderSource, ImageSource, VideoSource, open_source
from emotrace.sources.camera import StreamSource, WebcamSource
from tests.helpers import astronaut_frames, ffmpeg, write_video

CONTAINERS = {
    "mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    "mov": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    "avi": ["-c:v", "mjpeg"],
    "mkv": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    "webm": ["-c:v", "libvpx-vp9", "-b:v", "200k"],
    "flv": ["-c:v", "flv"],
    "gif": [],
}


@pytest.mark.parametrize("ext", sorted(CONTAINERS))
def test_every_container_decodes_all_frames(tmp_path, ext):
    frames = astronaut_frames(10)
    path = write_video(tmp_path / f"clip.{ext}", frames, fps=10, codec=CONTAINERS[ext])
    src = open_source(str(path))
    assert isinstance(src, VideoSource)
    got = list(src)
    assert len(got) == 10
    assert got[0].image.shape == (240, 320, 3) and got[0].image.dtype == np.uint8
    ts = [f.timestamp for f in got]
    assert ts == sorted(ts) and ts[0] == pytest.approx(0.0, abs=1e-3)


def test_variable_frame_rate_timestamps_come_from_the_container(tmp_path):
    frames = astronaut_frames(6)
    # Frames at 0, 0.1, 0.2, then 0.7, 0.8, 0.9 s: a 0.5 s hole that a nominal fps would hide.
    pts = "setpts='if(lt(N,3),N*0.1,0.4+N*0.1)/TB'"
    path = write_video(tmp_path / "vfr.mp4", frames, fps=10,
                       codec=["-vf", pts, "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
    ts = [f.timestamp for f in open_source(str(path))]
    assert len(ts) == 6
    assert ts[3] - ts[2] == pytest.approx(0.5, abs=0.02)
    assert ts[1] - ts[0] == pytest.approx(0.1, abs=0.02)


def test_rotation_metadata_is_honoured(tmp_path):
    frames = astronaut_frames(4, size=(320, 240))
    plain = write_video(tmp_path / "plain.mp4", frames, codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(plain), "-c", "copy",
                    str(rotated)], check=True)
    img = next(iter(open_source(str(rotated)))).image
    assert img.shape[:2] == (320, 240)  # portrait after rotation


def test_image_depths_and_channels(tmp_path):
    base = astronaut_frames(1)[0]
    gray = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)
    cases = {
        "gray.png": gray,
        "rgba.png": cv2.cvtColor(base, cv2.COLOR_BGR2BGRA),
        "deep16.png": (gray.astype(np.uint16) * 257),
        "color16.tif": base.astype(np.uint16) * 257,
    }
    for name, img in cases.items():
        assert cv2.imwrite(str(tmp_path / name), img)
        frame = next(iter(ImageSource(tmp_path / name)))
        assert frame.image.dtype == np.uint8 and frame.image.shape == (240, 320, 3), name
        assert abs(float(frame.image.mean()) - float(gray.mean())) < 12, name


def test_folder_source_skips_unreadable_files(tmp_path):
    for i, f in enumerate(astronaut_frames(3)):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), f)
    (tmp_path / "3.jpg").write_bytes(b"not a jpeg")
    src = FolderSource(tmp_path)
    assert len(list(src)) == 3 and src.skipped == [str(tmp_path / "3.jpg")]


def test_array_source_accepts_one_image_or_a_stack():
    frames = astronaut_frames(3)
    assert len(list(ArraySource(frames[0]))) == 1
    got = list(ArraySource(np.stack(frames), fps=10))
    assert len(got) == 3 and got[2].timestamp == pytest.approx(0.2)


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    (b"", "file is empty"),
    (b"hello, this is plain text and not a video at all\n" * 20, "not a readable image or video"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "input.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(str(path))


def test_corrupt_image_is_refused(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    with pytest.raises(SourceError, match="not a readable image"):
        open_source(str(path))


def test_unsupported_codec(tmp_path):
    path = write_video(tmp_path / "clip.avi", astronaut_frames(5), codec=["-c:v", "mjpeg"])
    data = path.read_bytes()
    assert data.count(b"MJPG") >= 1
    path.write_bytes(data.replace(b"MJPG", b"ZZZZ").replace(b"mjpg", b"zzzz"))
    with pytest.raises(SourceError, match="unsupported codec|not a readable"):
        open_source(str(path))


def test_truncated_video_gives_the_frames_it_has(tmp_path, caplog):
    path = write_video(tmp_path / "clip.avi", astronaut_frames(30), codec=["-c:v", "mjpeg"])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    frames = list(open_source(str(path)))
    assert 5 <= len(frames) < 30


def test_unreadable_webcam_and_url():
    with pytest.raises(SourceError, match="cannot open webcam 97"):
        WebcamSource(97)
    with pytest.raises(SourceError, match="cannot open stream"):
        StreamSource("rtsp://127.0.0.1:9/none", open_timeout_ms=2000)


def test_stream_url_over_http_on_loopback(tmp_path):
    import functools
    import http.server
    import threading

    write_video(tmp_path / "clip.mp4", astronaut_frames(8), codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        src = open_source(f"http://127.0.0.1:{server.server_address[1]}/clip.mp4")
        assert isinstance(src, StreamSource) and src.is_live
        frames = list(src)
        src.close()
    finally:
        server.shutdown()
    assert len(frames) == 8 and frames[0].image.shape == (240, 320, 3)


def test_exif_orientation_of_photos_is_applied(tmp_path):
    from PIL import Image

    img = astronaut_frames(1, size=(320, 240))[0]
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(img[:, :, ::-1]).save(tmp_path / "phone.jpg", exif=exif.tobytes())
    frame = next(iter(ImageSource(tmp_path / "phone.jpg")))
    assert frame.image.shape == (320, 240, 3)
