"""``python -m desktop.bench NAME [--json]``: run one benchmark; the last stdout line is its JSON."""
import importlib
import sys


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print("usage: python -m desktop.bench NAME [--json]   (NAME: map, video, alarms, patrol, soak, ...;\n"
              "every one reports machine_ref_ms, see desktop/bench/machine.py)", file=sys.stderr)
        return 2
    name = sys.argv[1]
    try:
        mod = importlib.import_module(f"desktop.bench.{name}")
    except ModuleNotFoundError:
        print(f"no benchmark named {name!r}", file=sys.stderr)
        return 2
    return int(mod.main(sys.argv[2:]) or 0)


sys.exit(main())
