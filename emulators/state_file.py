"""A JSON document kept in an emulator's state directory, so a restarted emulator keeps its data.

Writes go to a temporary file that replaces the old one, so a crash never leaves half a document.
Errors: ``OSError`` from the file system and ``ValueError`` for a file that is not a JSON object
propagate; the emulators only call this at start-up and after a committed change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["JsonStateFile"]


class JsonStateFile:
    """``{state_dir}/{name}``, or nothing at all when ``state_dir`` is None (memory only)."""

    def __init__(self, state_dir: Path | str | None, name: str):
        self.path = None if state_dir is None else Path(state_dir) / name

    def load(self) -> dict[str, Any] | None:
        if self.path is None or not self.path.exists():
            return None
        document = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"{self.path} does not hold a JSON object")
        return document

    def save(self, document: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(self.path.suffix + ".tmp")
        scratch.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(scratch, self.path)
