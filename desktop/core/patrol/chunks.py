"""The patrol journal's chunk format: one unit's fixes of one time bucket (:data:`CHUNK_S`) packed
into a BLOB of fixed-point numpy records (:data:`CHUNK_DTYPE`, 16 bytes a fix), and back.

Used by :class:`~.journal.PositionJournal` when it compacts recent rows and when it loads tracks.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["CHUNK_S", "CHUNK_DTYPE", "COMPACT_LAG_S", "encode_chunk", "decode_chunks"]

CHUNK_S = 600  # seconds of one unit's fixes in one chunk
# Rows younger than this (data time, behind the newest fix) are not compacted yet, so fixes
# that arrive a little late still land in their bucket's rows and not in a rewrite of a chunk.
COMPACT_LAG_S = 60.0

# One fix in a chunk BLOB: milliseconds into the bucket, lon/lat in 1e-7 degrees (1 cm),
# speed in 0.1 km/h, heading in 0.01 degrees. Little-endian, so files move between machines.
CHUNK_DTYPE = np.dtype([("dt", "<i4"), ("lon", "<i4"), ("lat", "<i4"), ("spd", "<u2"), ("hdg", "<u2")])
_DEG_Q = 1e7
_SPD_Q = 10.0
_HDG_Q = 100.0


def _bucket(t: float) -> int:
    return int(math.floor(t / CHUNK_S)) * CHUNK_S


def encode_chunk(bucket: int, t, lon, lat, speed, heading) -> bytes:
    """Pack fixes of one bucket (sorted by time) into a chunk BLOB."""
    rec = np.empty(len(t), CHUNK_DTYPE)
    rec["dt"] = np.rint((np.asarray(t, float) - bucket) * 1000.0)
    rec["lon"] = np.rint(np.asarray(lon, float) * _DEG_Q)
    rec["lat"] = np.rint(np.asarray(lat, float) * _DEG_Q)
    rec["spd"] = np.clip(np.rint(np.asarray(speed, float) * _SPD_Q), 0, 65535)
    rec["hdg"] = np.rint((np.asarray(heading, float) % 360.0) * _HDG_Q).astype(np.int64) % 36000
    return rec.tobytes()


def decode_chunks(buckets: np.ndarray, counts: np.ndarray, blob: bytes) -> tuple[np.ndarray, ...]:
    """(t, lon, lat, speed, heading) float arrays of concatenated chunk BLOBs."""
    rec = np.frombuffer(blob, CHUNK_DTYPE)
    t = np.repeat(np.asarray(buckets, float), counts) + rec["dt"] * 1e-3
    return (t, rec["lon"] * (1.0 / _DEG_Q), rec["lat"] * (1.0 / _DEG_Q), rec["spd"] * (1.0 / _SPD_Q),
            rec["hdg"] * (1.0 / _HDG_Q))
