"""Work Rasa 3.6 repeats on every message for nothing, done once instead (measured in
docs/BENCHMARKS.md, "Where the time goes").

- Each action server reply is validated with `jsonschema.validate`, which first validates the
  (constant) response schema itself against the JSON Schema meta-schema: about 15 ms of CPU per
  custom action on this machine, more than the rest of the round trip. Here the schema is
  checked once and its validator reused; every reply is still validated against it, with Rasa's
  own error message.

Applied when bot.tracker_store is imported, which every Rasa process of the assistant does
(endpoints.yml).
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Validator:
    """The validator of action server replies, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result without re-checking the schema each time."""
    error: ValidationError | None = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Installs the speed-ups in this process (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
