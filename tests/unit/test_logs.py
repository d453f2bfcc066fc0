from __future__ import annotations

import logging

import orjson

from streams.logs import JsonFormatter, redact


def test_json_lines_carry_level_logger_and_message() -> None:
    record = logging.LogRecord("streams.app", logging.WARNING, __file__, 1, "dead letter: %s", ("x",), None)
    document = orjson.loads(JsonFormatter().format(record))
    assert document["level"] == "warning"
    assert document["logger"] == "streams.app"
    assert document["message"] == "dead letter: x"


def test_credentials_in_urls_are_masked() -> None:
    assert (
        redact("connecting to sasl://alice:s3cret@broker:9093") == "connecting to sasl://***:***@broker:9093"
    )
    assert redact("https://example.com/a:b@c") == "https://example.com/a:b@c"
