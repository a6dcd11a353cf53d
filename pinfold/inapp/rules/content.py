"""An in-app message's content as Pinpoint takes it, in a template (InAppTemplateRequest) or a campaign
(CampaignInAppMessage): a Layout, up to five Content cards (a carousel's pages; the other layouts
show the first), each with header, body, image and up to two buttons, and CustomConfig, a string map
the app reads. Pure: no I/O.

What is checked is the API's shape: the members each structure requires, the enumerations, the types.
The console's shorter limits (a 64-character header, a 150-character body) are not applied, since
code that wrote longer ones through the API worked; the whole content is bounded instead, as
Pinpoint bounds an in-app template (200,000 characters). In-app messages carry no substitution
variables: the text is shown as written.
"""

from __future__ import annotations

import orjson

from pinfold.core.errors import InvalidInput

LAYOUTS = ("BOTTOM_BANNER", "TOP_BANNER", "OVERLAYS", "MOBILE_FEED", "MIDDLE_BANNER", "CAROUSEL")
ALIGNMENTS = ("LEFT", "CENTER", "RIGHT")
BUTTON_ACTIONS = ("LINK", "DEEP_LINK", "CLOSE")
MAX_CONTENT = 5  # cards in a message (a carousel's pages)
MAX_CUSTOM_CONFIG = 50  # pairs in CustomConfig (the console offers ten; Pinfold bounds what it stores)
MAX_CHARS = 200_000  # the whole content, as Pinpoint's in-app template quota
_TEXT = {"BodyConfig": ("Alignment", "Body", "TextColor"), "HeaderConfig": ("Alignment", "Header", "TextColor")}
_CARD = ("BackgroundColor", "BodyConfig", "HeaderConfig", "ImageUrl", "PrimaryBtn", "SecondaryBtn")
_BUTTON_DEFAULTS = ("BackgroundColor", "BorderRadius", "ButtonAction", "Link", "Text", "TextColor")
_OVERRIDES = ("Android", "IOS", "Web")


def check_message(message: dict, field: str) -> dict:
    """Layout, Content and CustomConfig of a template or campaign message, checked; the members kept."""
    if not isinstance(message, dict):
        raise InvalidInput(f"{field} must be an object", field=field)
    layout = message.get("Layout")
    if layout is not None and layout not in LAYOUTS:
        raise InvalidInput(f"{field}.Layout must be one of {', '.join(LAYOUTS)}", field=f"{field}.Layout")
    content = message.get("Content") or []
    if not isinstance(content, list) or not content:
        raise InvalidInput(f"{field}.Content needs at least one card (a header, a body, an image or buttons)",
                           field=f"{field}.Content")
    if len(content) > MAX_CONTENT:
        raise InvalidInput(f"{field}.Content has at most {MAX_CONTENT} cards", field=f"{field}.Content")
    for index, card in enumerate(content):
        _check_card(card, f"{field}.Content[{index}]")
    custom = message.get("CustomConfig")
    if custom is not None:
        if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
            raise InvalidInput(f"{field}.CustomConfig must map names to strings", field=f"{field}.CustomConfig")
        if len(custom) > MAX_CUSTOM_CONFIG:
            raise InvalidInput(f"{field}.CustomConfig has at most {MAX_CUSTOM_CONFIG} entries",
                               field=f"{field}.CustomConfig")
    kept = {"Layout": layout, "Content": content, "CustomConfig": custom}
    kept = {key: value for key, value in kept.items() if value is not None}
    if len(orjson.dumps(kept)) > MAX_CHARS:
        raise InvalidInput(f"{field} is longer than {MAX_CHARS:,} characters", field=field)
    return kept


def shown(message: dict) -> dict:
    """The InAppMessage a device reads (GetInAppMessages): its Layout, Content and CustomConfig."""
    return {key: message[key] for key in ("Layout", "Content", "CustomConfig") if message.get(key) is not None}


def _check_card(card, field: str) -> None:
    if not isinstance(card, dict) or set(card) - set(_CARD):
        raise InvalidInput(f"{field} may have only {', '.join(_CARD)}", field=field)
    for member, required in _TEXT.items():
        config = card.get(member)
        if config is None:
            continue
        where = f"{field}.{member}"
        if not isinstance(config, dict) or any(not isinstance(config.get(key), str) for key in required):
            raise InvalidInput(f"{where} needs {', '.join(required)} (strings)", field=where)
        if config["Alignment"] not in ALIGNMENTS:
            raise InvalidInput(f"{where}.Alignment must be one of {', '.join(ALIGNMENTS)}", field=f"{where}.Alignment")
    for member in ("BackgroundColor", "ImageUrl"):
        if card.get(member) is not None and not isinstance(card[member], str):
            raise InvalidInput(f"{field}.{member} must be a string", field=f"{field}.{member}")
    for member in ("PrimaryBtn", "SecondaryBtn"):
        if card.get(member) is not None:
            _check_button(card[member], f"{field}.{member}")


def _check_button(button, field: str) -> None:
    if not isinstance(button, dict) or set(button) - {"DefaultConfig", *_OVERRIDES}:
        raise InvalidInput(f"{field} may have only DefaultConfig, Android, IOS and Web", field=field)
    default = button.get("DefaultConfig")
    if not isinstance(default, dict) or set(default) - set(_BUTTON_DEFAULTS) or not isinstance(default.get("Text"),
                                                                                                str):
        raise InvalidInput(f"{field}.DefaultConfig needs ButtonAction and Text, and may have "
                           f"{', '.join(_BUTTON_DEFAULTS)}", field=f"{field}.DefaultConfig")
    _check_action(default, f"{field}.DefaultConfig")
    radius = default.get("BorderRadius")
    if radius is not None and (isinstance(radius, bool) or not isinstance(radius, int) or radius < 0):
        raise InvalidInput(f"{field}.DefaultConfig.BorderRadius must be a whole number, at least 0",
                           field=f"{field}.DefaultConfig.BorderRadius")
    for platform in _OVERRIDES:
        override = button.get(platform)
        if override is None:
            continue
        if not isinstance(override, dict) or set(override) - {"ButtonAction", "Link"}:
            raise InvalidInput(f"{field}.{platform} may have only ButtonAction and Link", field=f"{field}.{platform}")
        _check_action(override, f"{field}.{platform}")


def _check_action(config: dict, field: str) -> None:
    action = config.get("ButtonAction")
    if action not in BUTTON_ACTIONS:
        raise InvalidInput(f"{field}.ButtonAction must be one of {', '.join(BUTTON_ACTIONS)}",
                           field=f"{field}.ButtonAction")
    if action in ("LINK", "DEEP_LINK") and not config.get("Link"):
        raise InvalidInput(f"{field}.Link is required when ButtonAction is {action}", field=f"{field}.Link")
    if config.get("Link") is not None and not isinstance(config["Link"], str):
        raise InvalidInput(f"{field}.Link must be a string", field=f"{field}.Link")
