"""Shared pytest set-up: headless Qt and the server fixtures (RTSP, MQTT)."""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# journals, saved layouts and snapshots of the programs under test go to a throwaway folder
os.environ.setdefault("PINGAN_DATA", tempfile.mkdtemp(prefix="pingan-test-data-"))
# ...and their settings and window layouts too, never the developer's own
os.environ.setdefault("PINGAN_CONFIG", tempfile.mkdtemp(prefix="pingan-test-config-"))
# alarm sounds of the programs under test go to ALSA's null device, not the developer's speakers
# (the sound tests name their own capturing device)
os.environ.setdefault("PINGAN_AUDIO_DEVICE", "null")

pytest_plugins = ["tests.fixtures.district", "tests.fixtures.rtsp", "tests.fixtures.mqtt"]

import sys
import threading

_exit_status = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


def pytest_unconfigure(config):
    """A test that leaves a non-daemon thread behind must not hang CI at interpreter exit."""
    left = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if left:
        print(f"\nconftest: non-daemon threads left running: {[t.name for t in left]}; exiting anyway",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(_exit_status["code"])
