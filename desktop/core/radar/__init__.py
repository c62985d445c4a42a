"""Radar targets at sea: tracks, watched waters and the ``radar_target`` alarm (Qt-free)."""
