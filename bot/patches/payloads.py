"""Button payloads (`/intent{json}`) checked and normalised where Rasa reads them.

Buttons send payloads such as `/choose_faq{"faq_key": "staj_ucreti"}`, and anyone can type or
send the same text. Rasa turns it into an intent and entities itself:
`YAMLStoryReader.unpack_regex_message` (rasa/shared/core/training_data/story_reader/
yaml_story_reader.py), run by the RegexMessageHandler node that ends every NLU graph, parses the
JSON with `json.loads` in `_entities_from_regex_match`. That is the one place where a payload
becomes entities, so it is checked there, before the dialogue, the actions or the tracker store
see anything:

- a payload nested deeper than MAX_PAYLOAD_DEPTH gives no entities. Deeper JSON made
  `json.loads` (about 1,000 levels) or Rasa's `copy.deepcopy` of the entities (about 300)
  raise RecursionError, and the message was neither answered nor stored;
- each entity value must be a string (kept, as valid Unicode) or a whole number (made a
  string, as our buttons send ids: `{"offer_id": "12"}`); objects, lists inside lists,
  booleans, null and fractions are dropped, so `/choose_faq{"faq_key": {...}}` reaches the
  FAQ action without a topic and is answered "not understood".

Installed with the other replacements of Rasa's internals (bot/patches/__init__.py).

The intent itself is Rasa's (an unknown intent keeps the text as text). Every string that is
stored is made valid Unicode again by the tracker store (bot.masking.stored_event).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_VALUE

from bot.masking import valid_text
from bot.patches import Replacement

logger = logging.getLogger(__name__)

# Our buttons send one flat object: {"faq_key": "..."} is depth 1, a list of values depth 2.
MAX_PAYLOAD_DEPTH = 4


def nesting_depth(payload: str) -> int:
    """How deeply the JSON text `payload` nests arrays and objects (brackets inside strings do
    not count). Linear in its length; malformed JSON gets the depth it reaches."""
    depth = deepest = 0
    in_string = escaped = False
    for character in payload:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


def entity_value(value: Any) -> str | None:
    """The value an entity from a payload may have: a string (valid Unicode) or a whole number
    as a string; None for anything else (the entity is dropped)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def normalise_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payload's entities whose values have an allowed shape (see entity_value), with
    those values normalised; the others are dropped and logged (without their values)."""
    kept = []
    for entity in entities:
        value = entity_value(entity.get(ENTITY_ATTRIBUTE_VALUE))
        if value is None:
            logger.warning(
                "payload entity %r dropped: its value is a %s, not a string",
                entity.get(ENTITY_ATTRIBUTE_TYPE),
                type(entity.get(ENTITY_ATTRIBUTE_VALUE)).__name__,
            )
            continue
        kept.append({**entity, ENTITY_ATTRIBUTE_VALUE: value})
    return kept


_rasa_entities_from_regex_match = YAMLStoryReader._entities_from_regex_match


def entities_from_payload(
    match: Any, domain: Any, extractor_name: str | None
) -> list[dict[str, Any]]:
    """YAMLStoryReader._entities_from_regex_match with the depth bounded and the values
    normalised; never raises RecursionError."""
    payload = match.group(ENTITIES)
    if (
        payload is not None
        and payload.count("[") + payload.count("{") > MAX_PAYLOAD_DEPTH
        and nesting_depth(payload) > MAX_PAYLOAD_DEPTH
    ):
        logger.warning(
            "payload nested deeper than %d levels (%d characters): entities dropped",
            MAX_PAYLOAD_DEPTH,
            len(payload),
        )
        return []
    try:
        entities = _rasa_entities_from_regex_match(match, domain, extractor_name)
    except RecursionError:  # cannot happen below the depth bound; kept as a last guard
        logger.warning("payload too deeply nested for Rasa: entities dropped")
        return []
    return normalise_entities(entities)


REPLACEMENTS = (
    Replacement(
        YAMLStoryReader,
        "_entities_from_regex_match",
        staticmethod(entities_from_payload),
        "a payload's nesting bounded and its entity values normalised: no RecursionError, no "
        "action crashing on an object where a string belongs",
    ),
)
