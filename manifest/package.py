"""The installable app package: one zip with manifest.json and the two icons at its root."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from manifest.app_manifest import (
    COLOR_ICON_FILE,
    OUTLINE_ICON_FILE,
    ManifestCommand,
    ManifestConfig,
    build_manifest,
)
from manifest.icons import color_icon, outline_icon

MANIFEST_FILE = "manifest.json"
# A fixed timestamp makes the same inputs give the same zip bytes (reproducible packages).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def package_name(config: ManifestConfig) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", config.short_name.lower()).strip("-") or "app"
    return f"{slug}-{config.version}.zip"


def package_files(config: ManifestConfig, commands: Iterable[ManifestCommand]) -> dict[str, bytes]:
    """The package's files by name, in the order they are zipped."""
    manifest = build_manifest(config, commands)
    return {
        MANIFEST_FILE: (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        COLOR_ICON_FILE: color_icon(config.accent_color),
        OUTLINE_ICON_FILE: outline_icon(),
    }


def build_package(config: ManifestConfig, commands: Iterable[ManifestCommand], out_dir: Path) -> Path:
    """Write ``{out_dir}/{short-name}-{version}.zip`` (creating ``out_dir``) and return its path."""
    files = package_files(config, commands)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / package_name(config)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    # Replace in one step so a half-written zip is never left under the final name.
    partial.replace(target)
    return target
