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


def test_the_dashboard_tab_signs_in_through_teams_with_the_apps_own_api(tmp_path, monkeypatch):
    app_id = "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11"
    monkeypatch.setenv("GOLIVE_MICROSOFT_APP_ID", app_id)
    monkeypatch.setenv("GOLIVE_PUBLIC_URL", "https://golive.example.va.gov")
    assert main(["manifest", "build", "--out", str(tmp_path)]) == 0
    (package,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    (tab,) = manifest["staticTabs"]
    # Inside Teams the tab page gets its token from Teams; a browser opens the token-protected page.
    assert tab["contentUrl"] == "https://golive.example.va.gov/dashboard/tab"
    assert tab["websiteUrl"] == "https://golive.example.va.gov/dashboard"
    assert manifest["webApplicationInfo"] == {
        "id": app_id,
        "resource": f"api://golive.example.va.gov/{app_id}",
    }
