"""Logs hold no personal data: the masking filter on handlers, the record factory for handlers
added later, tracebacks, `extra` fields, structlog events and warnings (bot/log_masking.py)."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest
import structlog

from bot import log_masking
from bot.masking import EMAIL, NATIONAL_ID, PHONE

RAW_PHONE = "0532 417 28 93"
RAW_EMAIL = "ayse.kaya98 [at] gmail [dot] com"
RAW_TC = "284 619 375 50"


@pytest.fixture()
def output() -> Iterator[io.StringIO]:
    """What a handler on the root logger writes, with the level at DEBUG, as Rasa's --debug."""
    log_masking.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(name)s %(message)s %(request)s", defaults={"request": ""})
    )
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_messages_and_their_arguments_are_masked(output: io.StringIO) -> None:
    logging.getLogger("rasa.core.processor").debug(
        "Received user message '%s' with intent '%s'", f"numaram {RAW_PHONE}", "greet"
    )
    logging.getLogger("rasa_sdk.executor").error(f"Failed to run action: {RAW_EMAIL}")
    written = output.getvalue()
    assert RAW_PHONE not in written and RAW_EMAIL not in written
    assert f"numaram {PHONE}" in written and EMAIL in written and "greet" in written


def test_tracebacks_are_masked_and_keep_their_frames(output: io.StringIO) -> None:
    def fail(text: str) -> None:
        raise ValueError(f"could not parse {text!r}")

    try:
        fail(f"TC {RAW_TC}")
    except ValueError:
        logging.getLogger("rasa.core.actions.action").exception("action failed")
    written = output.getvalue()
    assert RAW_TC not in written
    assert NATIONAL_ID in written
    assert "in fail" in written and "Traceback (most recent call last)" in written


def test_extra_fields_are_masked(output: io.StringIO) -> None:
    logging.getLogger("sanic.access").info(
        "", extra={"request": f"GET /conversations/rest:{RAW_PHONE}/tracker"}
    )
    written = output.getvalue()
    assert RAW_PHONE not in written and PHONE in written


def test_a_handler_added_later_gets_masked_records_too() -> None:
    log_masking.install()
    stream = io.StringIO()
    late = logging.StreamHandler(stream)  # as Sanic or coloredlogs add theirs at start-up
    logger = logging.getLogger("late.library")
    logger.propagate = False
    logger.addHandler(late)
    logger.setLevel(logging.INFO)
    try:
        logger.info("e-posta %s", RAW_EMAIL)
    finally:
        logger.removeHandler(late)
    assert late.filters == []  # not through a filter of its own ...
    assert stream.getvalue().strip() == f"e-posta {EMAIL}"  # ... but masked as it was made


def test_existing_handlers_get_the_filter() -> None:
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger("some.library").addHandler(handler)
    try:
        log_masking.install()
        assert log_masking.FILTER in handler.filters
        assert log_masking.FILTER in logging.getLogger().filters
    finally:
        logging.getLogger("some.library").removeHandler(handler)


def test_structlog_events_are_masked(output: io.StringIO) -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.DEBUG)  # as `rasa run --debug` configures it
    structlog.get_logger().warning("message.parsing.failed", user_text=f"tel {RAW_PHONE}")
    written = output.getvalue()
    assert "message.parsing.failed" in written
    assert RAW_PHONE not in written and PHONE in written


def test_warnings_are_logged_masked(output: io.StringIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = logging._showwarning  # as captureWarnings set it up
        warnings.warn(f"Failed to parse arguments in line '/choose_faq{RAW_EMAIL}'", stacklevel=1)
    written = output.getvalue()
    assert "Failed to parse arguments" in written
    assert RAW_EMAIL not in written


def test_a_record_that_cannot_be_formatted_is_withheld(output: io.StringIO) -> None:
    logging.getLogger("broken").warning("%d apples %s", "not a number", RAW_PHONE)
    written = output.getvalue()
    assert RAW_PHONE not in written and log_masking.WITHHELD in written


def test_json_escaped_characters_are_seen_as_typed(output: io.StringIO) -> None:
    # Rasa's structlog renders events as JSON, fullwidth digits as \uff10 escapes
    fullwidth = "０５３２ ４１７ ２８ ９３"
    logging.getLogger("rasa.core.processor").debug(json.dumps({"text": f"numaram {fullwidth}"}))
    written = output.getvalue()
    assert "\\uff10" not in written and fullwidth not in written
    assert json.loads(written.split(" ", 1)[1].strip()) == {"text": f"numaram {PHONE}"}
