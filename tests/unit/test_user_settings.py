"""The settings model, camera credentials and the screen clamp (Qt-free)."""
import logging

import pytest

from desktop.core.config import Config
from desktop.core.credentials import Credential, CredentialError, CredentialStore
from desktop.core.user_settings import DictStore, SettingsError, UserSettings, check_broker_url, clamp_to_screens


@pytest.mark.parametrize("field,value,words", [
    ("broker", "http://127.0.0.1:1883", "mqtt://"),
    ("broker", "mqtt://", "no host"),
    ("broker", "mqtt://127.0.0.1:99999", "not a URL"),
    ("broker", "mqtt://127.0.0.1:1883/alarms", "no path"),
    ("language", "fr", "zh_CN, en"),
    ("theme", "pink", "dark"),
    ("wall_id", "wall 1/east", "letters"),
    ("operator", "x" * 65, "64"),
])
def test_a_bad_value_is_named(field, value, words):
    with pytest.raises(SettingsError) as err:
        UserSettings(**{field: value}).validate()
    assert err.value.field == field and words in str(err.value)


def test_broker_url_defaults_and_normalising():
    assert check_broker_url("mqtt://127.0.0.1") == ("127.0.0.1", 1883, False)
    assert check_broker_url("mqtts://127.0.0.1") == ("127.0.0.1", 8883, True)
    s = UserSettings(broker="  mqtt://127.0.0.1:1884 ", operator="  张   三 ").validate()
    assert s.broker == "mqtt://127.0.0.1:1884" and s.operator == "张 三"


def test_saved_settings_round_trip_and_a_bad_saved_value_is_dropped_alone():
    store = DictStore()
    UserSettings(broker="mqtt://127.0.0.1:1883", language="en", theme="dark-large", wall_id="east",
                 operator="李四").save(store)
    back, problems = UserSettings.load(store)
    assert back == UserSettings("mqtt://127.0.0.1:1883", "en", "dark-large", "east", "李四") and not problems
    store.set_value("settings/language", "klingon")
    store.set_value("settings/theme", "pink")
    back, problems = UserSettings.load(store)
    assert back.language == "" and back.theme == "dark" and back.wall_id == "east"
    assert len(problems) == 2 and "language" in problems[0] and "theme" in problems[1]


def test_command_line_and_config_win_over_saved_settings():
    saved = UserSettings(broker="mqtt://127.0.0.1:1883", language="en", operator="李四", wall_id="east")
    cfg = Config(locale="zh_CN", operator="")
    taken = saved.apply_to(cfg)
    assert cfg.locale == "zh_CN" and cfg.broker == "mqtt://127.0.0.1:1883" and cfg.operator == "李四"
    assert cfg.wall_id == "east" and set(taken) == {"broker", "operator", "wall_id"}
    cfg = Config(broker="mqtt://127.0.0.1:2000", wall_id="west")
    saved.apply_to(cfg)
    assert cfg.broker == "mqtt://127.0.0.1:2000" and cfg.wall_id == "west"


def test_window_on_screens_that_exist():
    one = [(0, 0, 1920, 1040)]
    assert clamp_to_screens((100, 100, 1600, 900), one) == (100, 100, 1600, 900)  # fine as it is
    # saved on a second monitor that is gone: back on the first, whole
    assert clamp_to_screens((2200, 100, 1600, 900), one) == (320, 100, 1600, 900)
    # title bar above the top of the screen
    assert clamp_to_screens((100, -500, 1600, 900), one) == (100, 0, 1600, 900)
    # bigger than the laptop screen it now opens on: shrunk to fit
    assert clamp_to_screens((0, 0, 2560, 1400), [(0, 0, 1366, 728)]) == (0, 0, 1366, 728)
    # two screens side by side: a window on the right one stays there
    two = [(0, 0, 1920, 1040), (1920, 0, 2560, 1400)]
    assert clamp_to_screens((2500, 200, 1200, 800), two) == (2500, 200, 1200, 800)
    assert clamp_to_screens((100, 100, 800, 600), []) == (100, 100, 800, 600)


# -- camera credentials ---------------------------------------------------------------------
def test_the_most_specific_credential_goes_into_a_network_url():
    store = CredentialStore([Credential("*", "viewer", "all-pass"),
                             Credential("127.0.0.1:8554", "nvr", "nvr p@ss"),
                             Credential("CAM-7", "cam7", "s3cret")])
    assert store.inject("rtsp://127.0.0.1:8554/v1", "CAM-1") == "rtsp://nvr:nvr%20p%40ss@127.0.0.1:8554/v1"
    assert store.inject("rtsp://127.0.0.1:8554/v7", "CAM-7") == "rtsp://cam7:s3cret@127.0.0.1:8554/v7"
    assert store.inject("rtsp://127.0.0.2/x", "CAM-2") == "rtsp://viewer:all-pass@127.0.0.2/x"
    # a URL naming its own user keeps it; files are never touched
    assert store.inject("rtsp://own:pw@127.0.0.1:8554/v1", "CAM-1") == "rtsp://own:pw@127.0.0.1:8554/v1"
    assert store.inject("/data/clip.mp4", "CAM-1") == "/data/clip.mp4"
    assert store.inject("file:///data/clip.mp4", "CAM-1") == "file:///data/clip.mp4"
    assert CredentialStore().inject("rtsp://127.0.0.1/x", "CAM-1") == "rtsp://127.0.0.1/x"


def test_a_password_never_shows_in_repr_or_logs(caplog):
    c = Credential("*", "viewer", "hunter2")
    assert "hunter2" not in repr(c) and "hunter2" not in str(c) and "***" in repr(c)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("credential %s %r", c, [c])
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize("cred,field", [(Credential("", "u", "p"), "scope"), (Credential("*", "", "p"), "user"),
                                        (Credential("*", "a:b", "p"), "user")])
def test_a_bad_credential_is_refused_naming_the_field(cred, field):
    with pytest.raises(CredentialError, match=f"^{field}:"):
        CredentialStore().put(cred)


def test_credentials_round_trip_and_a_bad_saved_entry_is_named_without_its_password():
    store = DictStore()
    CredentialStore([Credential("*", "viewer", "pw1"), Credential("CAM-7", "cam7", "pw2")]).save(store)
    store.set_value("credentials/count", 3)
    store.set_value("credentials/2/scope", "CAM-9")
    store.set_value("credentials/2/password", "pw3")  # no user
    back, problems = CredentialStore.load(store)
    assert [(c.scope, c.user, c.password) for c in back.entries()] == [("CAM-7", "cam7", "pw2"), ("*", "viewer", "pw1")]
    assert len(problems) == 1 and "3" in problems[0] and "user" in problems[0] and "pw3" not in problems[0]


def test_streams_of_a_camera_get_the_active_credentials_and_hide_them(monkeypatch):
    from types import SimpleNamespace

    from desktop.core import credentials
    from desktop.core.video.source import streams_for_camera
    monkeypatch.setattr(credentials, "_active", CredentialStore([Credential("*", "viewer", "hunter2")]))
    cam = SimpleNamespace(id="CAM-1", name="Gate", main_url="rtsp://127.0.0.1:8554/main",
                          sub_url="rtsp://127.0.0.1:8554/sub", props={})
    s = streams_for_camera(cam)
    assert s.main.url == "rtsp://viewer:hunter2@127.0.0.1:8554/main"
    assert s.sub.url == "rtsp://viewer:hunter2@127.0.0.1:8554/sub"
    assert "hunter2" not in repr(s.main) and "hunter2" not in s.main.safe_url()
