"""Personal data kept out of the logs: every log record goes through the masking rules.

Rasa and rasa-sdk log what students write: at debug level the whole parse data and tracker
(rasa/core/processor.py), the action server's whole request, and, whenever an action fails, the
request in the error. Rasa's structlog events (`structlogger.debug("processor.message.parse",
parse_data_text=...)`) are rendered by Rasa's configuration (rasa/utils/log_utils.py,
`configure_structlog`) into one standard `logging` record each, so masking `logging` records
covers them too. Rasa reports payloads it cannot parse with `warnings.warn`, quoting the
message; `logging.captureWarnings` turns those into records as well.

`install()` (idempotent), called by every process of the assistant as it starts
(bot/__main__.py, bot/action_server.py, and bot/tracker_store.py, which every Rasa process
loads):
- puts a MaskingFilter on the root logger and on every handler that exists by then;
- wraps `logging.Logger.makeRecord`, so every record made from then on is masked as it is made
  (its `extra` fields included), whichever handler added later (Sanic's, coloredlogs',
  pytest's) writes it;
- routes warnings into logging;
- where nobody configured structlog (Rasa's command line does), sends its events to `logging`
  instead of printing them.

A masked record carries the formatted message (bot.masking.mask_text) and no arguments; its
traceback is formatted and masked too, and string attributes given with `extra=` (Sanic's access
log puts the request line there) are masked. JSON escapes of non-ASCII characters ("\\uff10",
as structlog's JSON renderer writes fullwidth digits) are turned back into the characters first,
so the rules see what the student typed.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import re2

from bot.masking import mask_text

_MASKED = "_personal_data_masked"
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__
) | {"message", "asctime"}
WITHHELD = "[günlük kaydı gizlendi: maskelenemedi]"
_JSON_ESCAPE = re2.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})"
)


def _unescaped_character(match: Any) -> str:
    if match.group(3) is None:  # a surrogate pair
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    code = int(match.group(3), 16)
    # ASCII (quotes, backslashes, control characters) and lone surrogates stay escaped
    return chr(code) if code >= 0x80 and not 0xD800 <= code <= 0xDFFF else match.group(0)


def unescape_json_unicode(text: str) -> str:
    """`text` with JSON's `\\uXXXX` escapes of non-ASCII characters written as the characters
    (a JSON text stays valid JSON); linear time."""
    return _JSON_ESCAPE.sub(_unescaped_character, text) if "\\u" in text else text


def mask_record(record: logging.LogRecord) -> None:
    """Masks a record in place (once): message, traceback, stack and `extra` strings."""
    if getattr(record, _MASKED, False):
        return
    try:
        record.msg = mask_text(unescape_json_unicode(str(record.getMessage())))
    except Exception:  # a broken format string, or masking failed: log nothing personal
        record.msg = WITHHELD
    record.args = None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None  # no formatter may render the raw traceback again
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    for name, value in list(record.__dict__.items()):
        if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
            setattr(record, name, mask_text(value))
    setattr(record, _MASKED, True)


class MaskingFilter(logging.Filter):
    """A filter that masks personal data in every record and drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Masks the record; always lets it through."""
        mask_record(record)
        return True


FILTER = MaskingFilter()
_lock = threading.Lock()
_make_record_installed = False


def _masking_make_record(make_record: Any) -> Any:
    @functools.wraps(make_record)
    def masked_make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(self, *args, **kwargs)
        mask_record(record)
        return record

    return masked_make_record


def _handlers() -> list[logging.Handler]:
    loggers: list[Any] = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    return [
        handler
        for logger in loggers
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
    ]


def _route_structlog() -> None:
    """Sends structlog's events to `logging` where nobody configured structlog."""
    import structlog

    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def install() -> None:
    """Masks every log record of this process from now on (idempotent)."""
    global _make_record_installed
    with _lock:
        root = logging.getLogger()
        if FILTER not in root.filters:
            root.addFilter(FILTER)
        for handler in _handlers():
            if FILTER not in handler.filters:
                handler.addFilter(FILTER)
        if not _make_record_installed:
            logging.Logger.makeRecord = _masking_make_record(logging.Logger.makeRecord)
            logging.captureWarnings(True)
            _route_structlog()
            _make_record_installed = True
