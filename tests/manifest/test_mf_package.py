"""The app package: one zip with manifest.json and the two icons at its root, Teams-sized."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.commands import COMMANDS
from manifest import PLACEHOLDER_APP_ID, ManifestConfig, build_package, color_icon, outline_icon

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def rgba_pixels(image: Image.Image) -> list[tuple[int, int, int, int]]:
    # tobytes works on every Pillow we allow (getdata is deprecated from Pillow 12 on).
    raw = image.convert("RGBA").tobytes()
    return [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]  # type: ignore[misc]


@pytest.fixture
def cfg() -> ManifestConfig:
    return ManifestConfig.for_public_url(APP_ID, "https://golive.example.org", version="1.2.3")


def test_package_holds_exactly_manifest_and_icons_at_root(tmp_path: Path, cfg, manifest_errors):
    out = tmp_path / "does" / "not" / "exist"
    package = build_package(cfg, COMMANDS, out)
    assert package.parent == out and package.name == "go-live-bridge-1.2.3.zip"
    assert sorted(p.name for p in out.iterdir()) == [package.name]  # no partial file left behind
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        icons = {name: archive.read(name) for name in ("color.png", "outline.png")}
    assert manifest_errors(manifest) == []
    assert set(manifest["icons"].values()) == set(icons)


def test_package_builds_without_settings(tmp_path: Path, manifest_errors):
    # `golive manifest build` in a fresh clone: no app id, the sandbox's plain-http URL.
    cfg = ManifestConfig.for_public_url("", "http://127.0.0.1:3978")
    assert cfg.app_id == PLACEHOLDER_APP_ID and cfg.website_url.startswith("https://")
    with zipfile.ZipFile(build_package(cfg, COMMANDS, tmp_path)) as archive:
        assert manifest_errors(json.loads(archive.read("manifest.json"))) == []


def test_package_is_reproducible(tmp_path: Path, cfg):
    first = build_package(cfg, COMMANDS, tmp_path / "a").read_bytes()
    second = build_package(cfg, COMMANDS, tmp_path / "b").read_bytes()
    assert first == second


def test_rebuilding_into_the_same_directory_replaces_the_zip(tmp_path: Path, cfg):
    build_package(cfg, COMMANDS, tmp_path)
    build_package(cfg, COMMANDS, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["go-live-bridge-1.2.3.zip"]


def test_color_icon_is_192_square_opaque_and_uses_the_accent():
    image = Image.open(io.BytesIO(color_icon()))
    image.load()
    assert image.format == "PNG" and image.size == (192, 192)
    colours = set(rgba_pixels(image))
    assert {a for *_, a in colours} == {255}
    assert (0x0F, 0x6C, 0xBD, 255) in colours and (255, 255, 255, 255) in colours


def test_outline_icon_is_32_square_white_on_transparent():
    image = Image.open(io.BytesIO(outline_icon()))
    image.load()
    assert image.format == "PNG" and image.size == (32, 32) and image.mode == "RGBA"
    pixels = rgba_pixels(image)
    assert set(pixels) == {(255, 255, 255, 255), (0, 0, 0, 0)}
    opaque = sum(1 for p in pixels if p[3])
    assert 0.1 < opaque / (32 * 32) < 0.6  # a visible symbol, not a filled square


def test_icons_are_deterministic():
    from manifest.icons import _color_icon

    assert _color_icon.__wrapped__("#0F6CBD") == color_icon()
    assert outline_icon.__wrapped__() == outline_icon()
