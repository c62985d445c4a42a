"""Times shown in the district's zone, whatever the workstation's zone is."""
from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timezone

import pytest

from desktop.core import localtime
from desktop.core.localtime import (ZoneError, district_zone, format_duration, format_local, format_local_iso,
                                    set_district_zone, zone)


@pytest.fixture
def pc_in_utc():
    """The workstation's own zone set to UTC (as a PC installed abroad would be)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    saved = district_zone()
    try:
        yield
    finally:
        set_district_zone(saved)
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_qingdao_morning_alarm_reads_0900_on_a_pc_set_to_utc(pc_in_utc):
    set_district_zone("Asia/Shanghai")
    t = _epoch("2026-12-02T09:00:05+08:00")
    assert time.strftime("%H:%M", time.localtime(t)) == "01:00"  # what the program used to show
    assert format_local(t, now=t + 60) == "09:00:05"
    assert format_local(t, now=t + 60, seconds=False) == "09:00"


def test_the_date_is_written_when_it_is_not_today_in_the_district(pc_in_utc):
    set_district_zone("Asia/Shanghai")
    t = _epoch("2026-12-01T23:59:00+08:00")
    # 00:30 on the next day in Qingdao is still 2026-12-01 in UTC: the district's day counts
    now = _epoch("2026-12-02T00:30:00+08:00")
    assert format_local(t, now=now) == "12-01 23:59:00"
    assert format_local(_epoch("2025-12-31T08:00:00+08:00"), now=now) == "2025-12-31 08:00:00"
    assert format_local(t, now=now, date=True) == "2026-12-01 23:59:00"
    assert format_local(t, now=now, date=False) == "23:59:00"
    assert format_local(None) == "—" and format_local(float("nan")) == "—"


def test_another_districts_zone(pc_in_utc):
    if not shutil.os.path.exists("/usr/share/zoneinfo/Asia/Urumqi"):
        pytest.importorskip("tzdata")
    set_district_zone("Asia/Urumqi")  # UTC+6
    t = _epoch("2026-12-02T09:00:00+08:00")
    assert format_local(t, now=t) == "07:00:00"
    assert format_local(t, tz=zone("Asia/Shanghai"), now=t) == "09:00:00"


def test_iso_text_of_any_offset_reads_in_the_district_zone(pc_in_utc):
    set_district_zone("Asia/Shanghai")
    now = _epoch("2026-12-02T12:00:00+08:00")
    assert format_local_iso("2026-12-02T01:00:00Z", now=now) == "09:00:00"
    assert format_local_iso("2026-12-02T09:00:00", now=now) == "09:00:00"  # no offset: the district's
    assert format_local_iso("not a time", now=now) == "not a time"
    assert format_local_iso("") == ""


def test_unknown_zone_is_an_error_naming_it():
    with pytest.raises(ZoneError, match="Mars/Olympus"):
        zone("Mars/Olympus")
    with pytest.raises(ZoneError):
        zone("")


def test_default_zone_without_the_tz_database(monkeypatch):
    import zoneinfo

    def missing(name):
        raise zoneinfo.ZoneInfoNotFoundError(name)
    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    tz = localtime.zone("Asia/Shanghai")
    assert datetime(2026, 7, 1, tzinfo=timezone.utc).astimezone(tz).hour == 8
    with pytest.raises(ZoneError):
        localtime.zone("Europe/Berlin")


def test_durations():
    assert [format_duration(x) for x in (None, 4.6, 65, 3725)] == ["—", "5 s", "1 min 05 s", "1 h 02 min"]


def test_district_toml_declares_the_zone(tmp_path):
    from desktop.core.district.loader import DatasetError, _read_info
    (tmp_path / "district.toml").write_text('name = "X"\ncrs = "WGS84"\n', encoding="utf-8")
    assert _read_info(tmp_path).timezone == "Asia/Shanghai"
    (tmp_path / "district.toml").write_text('name = "X"\ncrs = "WGS84"\ntimezone = "UTC"\n', encoding="utf-8")
    assert _read_info(tmp_path).timezone == "UTC"
    (tmp_path / "district.toml").write_text('name = "X"\ncrs = "WGS84"\ntimezone = "Nowhere/Land"\n',
                                            encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        _read_info(tmp_path)
    assert "district.toml" in str(err.value) and "timezone" in str(err.value) and "Nowhere/Land" in str(err.value)
