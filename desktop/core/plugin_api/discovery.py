"""Finding plugins: folders holding a ``plugin.toml``, and the ``pingan_desk.plugins`` entry-point group.

Discovery reads manifests only; a plugin's code is imported when it is enabled
(:func:`import_entry`), so a broken or slow plugin costs nothing until it is used.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import tomllib
import types
from pathlib import Path

from .manifest import Manifest, ManifestError, parse_manifest, read_manifest

ENTRY_POINT_GROUP = "pingan_desk.plugins"
_NAMESPACE = "pingan_plugins"  # folder plugins are imported as pingan_plugins.<id>


def discover_folders(folders: list[Path]) -> tuple[list[Manifest], list[str]]:
    """Manifests of ``<folder>/<plugin>/plugin.toml``; returns (manifests, errors)."""
    found, errors = [], []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for toml in sorted(folder.glob("*/plugin.toml")):
            try:
                found.append(read_manifest(toml))
            except ManifestError as exc:
                errors.append(str(exc))
    return found, errors


def discover_entry_points(group: str = ENTRY_POINT_GROUP) -> tuple[list[Manifest], list[str]]:
    """Manifests of installed packages that declare an entry point in ``group``.

    The manifest is the ``plugin.toml`` beside the entry module when there is one (found
    without importing the module); otherwise a minimal one is made from the entry point.
    """
    found, errors = [], []
    for ep in importlib.metadata.entry_points(group=group):
        source = f"entry-point:{ep.dist.name if ep.dist else '?'}:{ep.name}"
        try:
            toml = _manifest_beside(ep.module)
            if toml is not None:
                data = tomllib.loads(toml.read_text(encoding="utf-8"))
                data["entry"] = ep.value  # the entry point is authoritative for where the code is
            else:
                data = {"id": ep.name, "name": ep.name, "api": 1, "entry": ep.value,
                        "version": ep.dist.version if ep.dist else "0"}
            found.append(parse_manifest(data, source, folder=None))
        except (ManifestError, tomllib.TOMLDecodeError, OSError, ValueError) as exc:
            errors.append(f"{source}: {exc}")
    return found, errors


def _manifest_beside(module: str) -> Path | None:
    top = module.split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or []) or ([str(Path(spec.origin).parent)] if spec.origin else [])
    rel = module.split(".")[1:]
    for root in roots:
        candidate = Path(root, *rel[:-1]) if rel else Path(root)
        if (candidate / "plugin.toml").exists():
            return candidate / "plugin.toml"
        if (Path(root, *rel) / "plugin.toml").exists():
            return Path(root, *rel) / "plugin.toml"
    return None


def package_name(manifest: Manifest) -> str:
    return f"{_NAMESPACE}.{manifest.id.replace('.', '_').replace('-', '_')}"


def import_entry(manifest: Manifest):
    """Import the plugin's code and return its entry object (the plugin class)."""
    mod_name, _, attr = manifest.entry.partition(":")
    if manifest.folder is not None:
        if _NAMESPACE not in sys.modules:
            ns = types.ModuleType(_NAMESPACE)
            ns.__path__ = []
            sys.modules[_NAMESPACE] = ns
        pkg = package_name(manifest)
        loaded = sys.modules.get(pkg)
        if loaded is not None and list(getattr(loaded, "__path__", [])) != [str(manifest.folder)]:
            forget_modules(manifest, force=True)  # same id, another folder: not the code we want
        if pkg not in sys.modules:
            init = manifest.folder / "__init__.py"
            if init.exists():
                spec = importlib.util.spec_from_file_location(
                    pkg, init, submodule_search_locations=[str(manifest.folder)])
                module = importlib.util.module_from_spec(spec)
                sys.modules[pkg] = module
                spec.loader.exec_module(module)
            else:
                module = types.ModuleType(pkg)
                module.__path__ = [str(manifest.folder)]
                sys.modules[pkg] = module
        module = importlib.import_module(f"{pkg}.{mod_name}")
    else:
        module = importlib.import_module(mod_name)
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def forget_modules(manifest: Manifest, force: bool = False) -> None:
    """Drop a folder plugin's modules so re-enabling it imports fresh code."""
    if manifest.folder is None and not force:
        return
    pkg = package_name(manifest)
    for name in [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]:
        del sys.modules[name]
