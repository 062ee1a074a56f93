"""`golive manifest build --out DIR` writes one installable zip with the manifest and icons at its root."""

from __future__ import annotations

import json
import zipfile

from bot.cli import main


def test_manifest_build_creates_the_directory_and_one_zip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOLIVE_MICROSOFT_APP_ID", "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11")
    monkeypatch.setenv("GOLIVE_PUBLIC_URL", "https://golive.example.va.gov")
    out = tmp_path / "package" / "nested"
    assert main(["manifest", "build", "--out", str(out)]) == 0
    zips = list(out.glob("*.zip"))
    assert len(zips) == 1
    with zipfile.ZipFile(zips[0]) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["id"] == "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11"
    assert manifest["bots"][0]["botId"] == "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11"
    assert any(
        tab["contentUrl"].startswith("https://golive.example.va.gov/dashboard")
        for tab in manifest.get("staticTabs", [])
    )
    assert str(zips[0]) in capsys.readouterr().out
