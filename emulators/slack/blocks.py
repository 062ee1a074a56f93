"""Block Kit as Slack treats it: the documented limits, ids Slack fills in, and what a press sends.

Limits are those of https://docs.slack.dev/reference/block-kit/blocks (50 blocks; section text 3000; header
150; button text 75, value 2000; block_id and action_id 255; 25 elements in an actions block).
Validation fails with `ApiError("invalid_blocks")`; a press on a missing element with `DriverError`.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from emulators.slack.errors import ApiError, DriverError

MAX_BLOCKS = 50
INTERACTIVE_TYPES = frozenset({"button", "static_select", "overflow"})

_LIMITS = {"section_text": 3000, "header_text": 150, "button_text": 75, "button_value": 2000, "id": 255}


def normalized_blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    """Blocks as Slack stores them: checked against the documented limits, missing ids filled in.

    Raises `ApiError("invalid_blocks")` naming every problem with a JSON pointer, as Slack does.
    """
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    normalized: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"must provide an object with a type [json-pointer:/blocks/{index}]")
            continue
        block = json.loads(json.dumps(block))
        problems.extend(_block_problems(block, index))
        block.setdefault("block_id", _random_id())
        for element in _interactive_elements(block):
            element.setdefault("action_id", _random_id())
        normalized.append(block)
    if problems:
        raise ApiError("invalid_blocks", problems[0], errors=problems)
    return normalized


def _random_id() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode()[:5]


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) and isinstance(obj.get("text"), str) else ""


def _block_problems(block: dict[str, Any], index: int) -> list[str]:
    where = f"[json-pointer:/blocks/{index}"
    problems = []
    if len(str(block.get("block_id", ""))) > _LIMITS["id"]:
        problems.append(f"must be less than 256 characters {where}/block_id]")
    if block["type"] == "section" and len(_text_of(block.get("text"))) > _LIMITS["section_text"]:
        problems.append(f"must be less than 3001 characters {where}/text/text]")
    if block["type"] == "header" and len(_text_of(block.get("text"))) > _LIMITS["header_text"]:
        problems.append(f"must be less than 151 characters {where}/text/text]")
    if block["type"] == "actions" and len(block.get("elements") or []) > 25:
        problems.append(f"no more than 25 items allowed {where}/elements]")
    for element in _interactive_elements(block):
        if len(str(element.get("action_id", ""))) > _LIMITS["id"]:
            problems.append(f"must be less than 256 characters {where}/action_id]")
        if element.get("type") == "button":
            if len(_text_of(element.get("text"))) > _LIMITS["button_text"]:
                problems.append(f"must be less than 76 characters {where}/text/text]")
            if len(str(element.get("value", ""))) > _LIMITS["button_value"]:
                problems.append(f"must be less than 2001 characters {where}/value]")
    return problems


def _interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    elements = block.get("elements")
    candidates: list[Any] = [block.get("accessory")]
    if block.get("type") == "actions":
        candidates = elements if isinstance(elements, list) else []
    return [
        e
        for e in candidates
        if isinstance(e, dict) and isinstance(e.get("type"), str) and e["type"] != "image"
    ]


def find_action(
    blocks: list[dict[str, Any]], action_id: str, value: str | None, now: float
) -> dict[str, Any]:
    """The `actions[]` entry Slack builds for pressing the element `action_id` in `blocks`."""
    candidates: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements if isinstance(elements, list) else []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                candidates.append((str(block.get("block_id", "")), element))
    if not candidates:
        raise DriverError(404, f"no interactive element with action_id {action_id!r} on that message")
    action_ts = f"{now:.6f}"
    for block_id, element in candidates:
        kind = element.get("type")
        if kind == "button" and (value is None or element.get("value") == value):
            action = {
                "action_id": action_id,
                "block_id": block_id,
                "text": element.get("text"),
                "type": "button",
            }
            if "value" in element:
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
            return action | {"action_ts": action_ts}
        if kind in ("static_select", "overflow"):
            option = _pick_option(element, value)
            if option is not None:
                action = {
                    "type": kind,
                    "action_id": action_id,
                    "block_id": block_id,
                    "selected_option": option,
                }
                if "placeholder" in element:
                    action["placeholder"] = element["placeholder"]
                return action | {"action_ts": action_ts}
    kinds = sorted({str(e.get("type")) for _b, e in candidates})
    if not set(kinds) & INTERACTIVE_TYPES:
        raise DriverError(400, f"element type(s) {', '.join(kinds)} cannot be pressed here")
    raise DriverError(404, f"no option or button with value {value!r} for action_id {action_id!r}")


def _pick_option(element: dict[str, Any], value: str | None) -> dict[str, Any] | None:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(group.get("options") or [])
    for option in options:
        if isinstance(option, dict) and (value is None or option.get("value") == value):
            return option
    return None
