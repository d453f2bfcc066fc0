"""What one page may cost the pipeline: bounds on its size, its nesting and each stage's time.

A page over a bound is not processed further: the stage raises :class:`agents.StageError`
with the reason named here, and the worker turns it into a dead letter. The workers read
the bounds from ``KHABAR_*`` variables (:class:`streams.config.Settings`); the defaults
below are what ``khabar process`` and the tests use.

How the time budget holds (measured, see ``docs/choices.md``): the size bounds are applied
before any stage reads the page, so every stage works on at most ``max_decompressed_bytes``
of markup and the stages are linear in that (``python -m tests.fuzz.run`` prints the slowest
page of each stage). A stage is never interrupted; when one still takes longer than
``stage_seconds`` (a slower machine, an input nobody has tried yet) the page stops there as
``too_slow`` instead of going on to the next stages, so the overrun shows in the dead
letters and the ``khabar_stage_seconds`` histogram.
"""

from __future__ import annotations

from dataclasses import dataclass

# The nesting depth at which libxml2 (lxml's parser) stops reading a page when it is not in
# its "huge tree" mode. Real pages stay far below: none of the 1,194 evaluation pages in
# ../shared/eval nests 64 elements deep.
PARSER_MAX_DEPTH = 256

TOO_LARGE = "too_large"  # the body, its decompressed form or the text is over a size bound
TOO_DEEP = "too_deep"  # markup (or data in it) nests deeper than max_parse_depth
TOO_SLOW = "too_slow"  # a stage took longer than stage_seconds


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds one page must stay within (defaults = the documented ``KHABAR_*`` defaults)."""

    # Bytes of the body as the crawler sent it; characters of a page that came as text.
    max_page_bytes: int = 5_000_000
    # Bytes of a compressed body (Content-Encoding gzip, deflate, br) once decompressed: a
    # zip bomb stops here. By default no larger than an uncompressed page may be.
    max_decompressed_bytes: int = 5_000_000
    # Element nesting of an HTML page; at most PARSER_MAX_DEPTH, where the parser stops.
    max_parse_depth: int = PARSER_MAX_DEPTH
    # Seconds each stage may spend on one page.
    stage_seconds: float = 10.0

    def __post_init__(self) -> None:
        if min(self.max_page_bytes, self.max_decompressed_bytes, self.max_parse_depth) < 1:
            raise ValueError(f"limits must be positive: {self}")
        if self.max_parse_depth > PARSER_MAX_DEPTH:
            raise ValueError(f"max_parse_depth is at most {PARSER_MAX_DEPTH} (the parser's own limit)")
        if self.stage_seconds <= 0:
            raise ValueError(f"stage_seconds must be positive: {self.stage_seconds}")


DEFAULT_LIMITS = Limits()
