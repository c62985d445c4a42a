"""The SQLite journal: WAL + synchronous FULL, written before shown, restored on restart."""
import sqlite3

from desktop.core.alarms.journal import Journal
from desktop.core.alarms.model import AlarmState
from desktop.core.alarms.service import AlarmService
from tests.fixtures.mqtt import alarm_payload


def test_pragmas_and_tables(tmp_path):
    j = Journal(tmp_path / "j.db")
    assert j.pragma("journal_mode") == "wal"
    assert j.pragma("synchronous") == 2  # FULL (see the module text for why)
    with sqlite3.connect(tmp_path / "j.db") as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alarms", "occurrences", "transitions", "audit", "meta"} <= names
    j.close()


def test_the_wal_is_copied_back_by_its_own_thread_not_inside_a_commit(tmp_path):
    import time

    from desktop.core.alarms.checkpoint import WRITER_AUTOCHECKPOINT_PAGES
    db = tmp_path / "j.db"
    with AlarmService(db, workstation="ws") as s:
        j = s.journal
        # the writer checkpoints itself only as a safety net, far past SQLite's 1,000 pages
        assert j.pragma("wal_autocheckpoint") == WRITER_AUTOCHECKPOINT_PAGES
        for i in range(1, 301):
            s.submit("pingan/alarm", alarm_payload(i))
        s.flush()
        cp = j._checkpointer
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (cp.last and cp.last[1] > 0 and cp.last[2] == cp.last[1]):
            time.sleep(0.05)
        busy, frames, copied = cp.last
        assert frames > 0 and copied == frames, cp.last  # every frame of the WAL is in the database file
        assert cp.failures == 0
    assert not cp._thread.is_alive()  # closing the journal ends it
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == 300


def test_alarm_is_journaled_before_it_is_shown(tmp_path):
    db = tmp_path / "j.db"
    seen_in_db = []
    with AlarmService(db, workstation="ws") as s:
        def notify():  # runs when the first event lands in the outbox
            with sqlite3.connect(db) as c:
                seen_in_db.append(c.execute("SELECT COUNT(*) FROM alarms").fetchone()[0])
        s.set_notify(notify)
        s.submit("pingan/alarm", alarm_payload(1))
        s.flush()
        assert s.drain()[0].alarm.id == "T-00001"
    assert seen_in_db == [1]


def test_restart_restores_alarms_states_and_full_history(tmp_path):
    db = tmp_path / "j.db"
    with AlarmService(db, workstation="ws1") as s:
        for i in range(5):
            s.submit("pingan/alarm", alarm_payload(i))
        s.flush()
        s.transition("T-00000", "acknowledged", "alice", "seen").result(5)
        s.transition("T-00000", "dispatched", "alice", "car 3 sent", unit="car-3").result(5)
        s.transition("T-00001", "false_alarm", "bob", "bird").result(5)
        s.audit("alice", "open_camera", "C-0001", tile=3)
        s.flush()
    with AlarmService(db, workstation="ws1") as s:
        assert len(s.alarms()) == 5
        a0 = s.get("T-00000")
        assert a0.state == AlarmState.DISPATCHED and a0.assigned_unit == "car-3"
        assert [(t.to_state, t.operator, t.note) for t in a0.history] == [
            (AlarmState.ACKNOWLEDGED, "alice", "seen"), (AlarmState.DISPATCHED, "alice", "car 3 sent")]
        assert s.get("T-00001").state == AlarmState.FALSE_ALARM
        assert s.counters()["restored"] == 5
        log = s.audit_log()
        assert [e.action for e in log] == ["open_camera", "transition", "transition", "transition"]
        assert log[0].detail == {"tile": 3} and log[0].workstation == "ws1"
        # A redelivery of an already journaled message is recognised as a duplicate.
        s.submit("pingan/alarm", alarm_payload(2))
        s.flush()
        assert s.counters()["duplicates"] == 1 and len(s.alarms()) == 5


def test_retention_keeps_open_alarms_and_recent_closed_ones(tmp_path):
    db = tmp_path / "j.db"
    with AlarmService(db, workstation="ws") as s:
        s.submit("pingan/alarm", alarm_payload(1))
        s.submit("pingan/alarm", alarm_payload(2))
        s.flush()
        s.transition("T-00002", "false_alarm", "op").result(5)
    with AlarmService(db, workstation="ws", closed_retention_s=0) as s:
        s.flush()
        assert [a.id for a in s.alarms()] == ["T-00001"]  # closed more than 0 s ago: not loaded
    with AlarmService(db, workstation="ws", closed_retention_s=None) as s:
        assert len(s.alarms()) == 2


def test_journal_failure_still_shows_alarms(tmp_path):
    with AlarmService(tmp_path / "j.db", workstation="ws") as s:
        s.journal._conn.execute("DROP TABLE occurrences")  # simulate a broken journal
        s.submit("pingan/alarm", alarm_payload(1))
        s.flush()
        kinds = [e.kind for e in s.drain()]
        assert "new" in kinds and "journal_error" in kinds
        assert s.counters()["journal_errors"] == 1 and s.get("T-00001") is not None


def test_an_unreadable_journal_is_set_aside_untouched_and_a_new_one_takes_alarms(tmp_path):
    import pytest

    from desktop.core.alarms.model import EventKind
    db = tmp_path / "j.db"
    garbage = b"not a database, but somebody's evidence " * 200
    db.write_bytes(garbage)
    with pytest.raises(sqlite3.DatabaseError):
        Journal(db, recover=False)
    assert db.read_bytes() == garbage  # refusing touches nothing
    with AlarmService(db, workstation="ws") as s:
        moved, why = s.journal.recovered
        assert moved.read_bytes() == garbage and moved.name.startswith("j.db.unreadable-")
        assert "not a database" in why
        s.submit("pingan/alarm", alarm_payload(3))
        s.flush()
        events = s.drain()
        errors = [e.message for e in events if e.kind == EventKind.JOURNAL_ERROR]
        assert errors and str(moved) in errors[0] and str(db) in errors[0]  # the operator is told where
        assert [e.alarm.id for e in events if e.kind == EventKind.NEW] == ["T-00003"]
    with AlarmService(db, workstation="ws") as again:  # the new journal is a good one
        assert again.journal.recovered is None and again.get("T-00003") is not None


def test_a_journal_damaged_inside_is_set_aside_on_load(tmp_path):
    db = tmp_path / "j.db"
    with AlarmService(db, workstation="ws") as s:
        for i in range(300):
            s.submit("pingan/alarm", alarm_payload(i, text="x" * 400))
        s.flush()
    size = db.stat().st_size
    assert size > 50_000
    with open(db, "r+b") as f:  # keep the header page, scribble over the rest
        f.seek(4096)
        f.write(b"\xde\xad\xbe\xef" * ((size - 4096) // 4))
    with AlarmService(db, workstation="ws") as s:
        assert s.journal.recovered is not None
        assert s.alarms() == []  # started empty; the damaged file waits for a rescue
