"""Shared pytest set-up: headless Qt and the server fixtures (RTSP, MQTT)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.fixtures.district", "tests.fixtures.rtsp", "tests.fixtures.mqtt"]
