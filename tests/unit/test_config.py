"""Configuration: TOML merged under the command line, errors that name the key."""
import pytest

from desktop.cli import build_parser, config_from_args
from desktop.core.config import Config, ConfigError, load_config


def test_defaults_are_the_offline_operator_demo():
    cfg = load_config(None)
    assert cfg.mode == "operator" and cfg.broker == "" and cfg.district == "" and cfg.map_datum == "GCJ02"


def test_toml_sections_and_cli_override(tmp_path):
    f = tmp_path / "ws.toml"
    f.write_text('mode = "wall"\nlocale = "en"\n[map]\ncoord_crs = "EPSG:4549"\n[mqtt]\nbroker = "mqtt://127.0.0.1:1883"\n'
                 '[plugins]\ndisabled = ["statistics"]\n[patrol]\nretention_days = 90\n[video]\ndecode_processes = 0\n', encoding="utf-8")
    cfg = load_config(f)
    assert cfg.mode == "wall" and cfg.coord_crs == "EPSG:4549" and cfg.broker == "mqtt://127.0.0.1:1883"
    assert cfg.patrol_retention_days == 90.0 and Config().patrol_retention_days == 30.0
    assert cfg.decode_processes == 0 and Config().decode_processes == 2
    assert cfg.plugins_disabled == ["statistics"]
    args = build_parser().parse_args(["--config", str(f), "--mode", "operator", "--broker", "mqtt://127.0.0.1:2000"])
    cfg = config_from_args(args)
    assert cfg.mode == "operator" and cfg.broker == "mqtt://127.0.0.1:2000"


@pytest.mark.parametrize("text,needle", [
    ('mode = "kiosk"\n', "kiosk"),
    ('colour = "red"\n', "colour"),
    ('[map]\ndatum = "XYZ"\n', "map_datum"),
    ('[map]\nzoom = 3\n', "map.zoom"),
    ('broker = "tcp://x"\n', "broker"),
    ('mode = 3\n', "mode must be a string"),
    ('[patrol]\nretention_days = 0\n', "patrol.retention_days must be a number above 0"),
    ('[patrol]\nretention_days = "long"\n', "retention_days must be a number"),
    ('[video]\ndecode_processes = 2.5\n', "video.decode_processes must be a whole number"),
    ('mode = "wall\n', "not valid TOML"),
])
def test_bad_config_names_what_is_wrong(tmp_path, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(f)
