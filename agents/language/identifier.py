"""The statistical identifiers, each loaded once per process on first use.

* **eldc** (Efficient Language Detector in C), the primary: 60 languages, its n-gram
  database compiled into the extension module (nothing read from disk or the network at run
  time, ``init()`` ≈ 2 ms, a few MB), ≈ 300,000 sentences per second on one core. The
  package ships no type information, so it is imported through :mod:`importlib` and typed
  here by the small part of its API that we use.
* **lingua** (high-accuracy mode, Arabic, Persian and Urdu models only, ≈ 150 MB, ≈ 0.8 s to
  load), the second opinion for Arabic-script text whose letters do not decide and on which
  eldc hesitates — mostly one or two words of Persian or Urdu, which share their alphabet.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from functools import cache
from typing import Protocol, cast

from lingua import Language, LanguageDetector, LanguageDetectorBuilder


class _Result(Protocol):
    @property
    def language(self) -> str: ...
    @property
    def reliable(self) -> bool: ...
    @property
    def scores(self) -> dict[str, float]: ...


class _Instance(Protocol):
    def set_languages(self, codes: str | list[str]) -> list[str]: ...
    def set_scores(self, n: int) -> None: ...
    def detect(self, text: str) -> str: ...
    def detect_details(self, text: str) -> _Result: ...


class _Module(Protocol):
    def init(self) -> None: ...
    def instance(self) -> _Instance: ...


@dataclass(frozen=True, slots=True)
class Identified:
    code: str | None  # eldc's ISO 639-1 code, None for undetermined
    reliable: bool
    margin: float  # top score minus the runner-up's (0..1; 1 when there is no runner-up)
    scores: dict[str, float]  # eldc's normalised scores, best first


_LOCK = threading.Lock()


@cache
def _module() -> _Module:
    module = cast(_Module, importlib.import_module("eldc"))
    module.init()
    return module


@cache
def _instance(languages: tuple[str, ...]) -> _Instance:
    """One eldc instance per language subset (``()`` = all 60), created on first use."""
    with _LOCK:
        instance = _module().instance()
        if languages:
            instance.set_languages(list(languages))
        instance.set_scores(4)
        return instance


def identify(text: str, languages: tuple[str, ...] = ()) -> Identified:
    """eldc's best language for ``text`` among ``languages`` (all when empty)."""
    result = _instance(languages).detect_details(text)
    code = result.language
    if code == "und":
        return Identified(None, False, 0.0, {})
    scores = dict(result.scores)
    values = list(scores.values())
    margin = values[0] - values[1] if len(values) > 1 else 1.0
    return Identified(code, bool(result.reliable), max(0.0, min(1.0, margin)), scores)


def quick_code(text: str) -> str | None:
    """eldc's best code among all its languages, without scores (a third cheaper than
    :func:`identify`): the check that a paragraph is in the page's language."""
    code = _instance(()).detect(text)
    return None if code == "und" else code


_LINGUA_LANGUAGES = {"ar": Language.ARABIC, "fa": Language.PERSIAN, "ur": Language.URDU}


@cache
def _lingua() -> LanguageDetector:
    with _LOCK:
        languages = list(_LINGUA_LANGUAGES.values())
        return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def lingua_confidences(text: str) -> dict[str, float]:
    """lingua's confidence (0..1, summing to 1) for each of ar, fa, ur."""
    values = _lingua().compute_language_confidence_values(text)
    return {value.language.iso_code_639_1.name.lower(): float(value.value) for value in values}
