"""The fuzz run: generated hostile records through decode + analyze + fingerprint, as a worker.

    uv run python -m tests.fuzz.run                      # 100,000 cases, seed 0
    uv run python -m tests.fuzz.run --count 2000 --seed 7 --jobs 2
    uv run python -m tests.fuzz.run --replay fuzz-findings/escape-0001.bin

Each case is a ``raw-pages`` record value (:mod:`tests.fuzz.inputs`). It goes through what
``analyze-pages`` does: ``RawPage.from_json`` (decode), :func:`agents.pipeline.analyze`
(clean, language, dates), :func:`agents.pipeline.fingerprint` (shingles, MinHash bands), and
the article's JSON and schema. A case is fine when it ends as an article or as a
SchemaError / StageError with a reason. Findings, each saved with its record value as a reproducer:

* ``escape``: any other exception (in the worker it would stop the agent);
* ``internal_error``: a StageError wrapping an unexpected exception (a bug behind a dead letter);
* ``bad_output``: an article with lone surrogates or control characters, an other-language
  span outside its text, or that lost the text its input was built from (mojibake); one that
  does not match its schema is an ``escape`` (validation raises);
* ``slow``: a stage over the per-page budget (``--budget``, default the workers' own).

Prints the count, duration, throughput, outcomes, and the slowest page of each stage.
Exit status 1 when there is any finding. Not a test: run it by hand or in a soak job.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import multiprocessing
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agents import StageError
from agents.language import load_models
from agents.limits import DEFAULT_LIMITS, Limits
from agents.pipeline import analyze, fingerprint
from schemas import RawPage, SchemaError, validate
from tests.fuzz.inputs import Case, Generator, load_corpus

STAGES = ("decode", "clean", "language", "dates", "fingerprint")
_BAD_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SAVED_PER_SIGNATURE = 3


@dataclass
class Finding:
    kind: str  # escape | internal_error | bad_output | slow
    signature: str  # what groups findings of one bug: exception type and where it was raised
    case: int
    family: str
    detail: str
    value: bytes


@dataclass
class Tally:
    count: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    families: Counter[str] = field(default_factory=Counter)
    slowest: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # stage -> (s, case, family)
    findings: list[Finding] = field(default_factory=list)

    def time(self, stage: str, seconds: float, case: int, family: str) -> None:
        if seconds > self.slowest.get(stage, (-1.0, 0, ""))[0]:
            self.slowest[stage] = (seconds, case, family)

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.outcomes.update(other.outcomes)
        self.families.update(other.families)
        for stage, (seconds, case, family) in other.slowest.items():
            self.time(stage, seconds, case, family)
        self.findings.extend(other.findings)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    return (
        f"{type(error).__name__} at {Path(last.filename).name}:{last.lineno}"
        if last
        else type(error).__name__
    )


def _output_problem(document: dict[str, object], text: str, expect: str | None) -> str | None:
    for key in ("title", "text", "subtitle", "site", "canonical_url", "authors"):
        value = document.get(key)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and _BAD_CONTROLS.search(item) for item in values):
            return f"{key} holds a control character or lone surrogate"
    spans = document.get("other_language_spans")
    for span in spans if isinstance(spans, list) else []:
        if not 0 <= span["start"] < span["end"] <= len(text):
            return "an other-language span is outside the text"
    if expect is not None and expect not in text:
        return "the text it was built from is not in the article (mojibake or lost text)"
    return None


def check(index: int, case: Case, limits: Limits, budget: float, tally: Tally) -> None:
    """Run one case through the pipeline; count its outcome, time its stages, note findings."""
    times: dict[str, float] = {}

    def observe(stage: str, seconds: float) -> None:
        times[stage] = seconds

    def finding(kind: str, signature: str, detail: str) -> None:
        tally.findings.append(Finding(kind, signature, index, case.family, detail, case.value))

    tally.count += 1
    tally.families[case.family] += 1
    started = time.perf_counter()
    try:
        page = RawPage.from_json(case.value)
    except SchemaError as exc:
        tally.outcomes[f"decode/{exc.reason}"] += 1
        page = None
    except Exception as exc:
        tally.outcomes["escape"] += 1
        finding("escape", f"decode: {_where(exc)}", traceback.format_exc())
        page = None
    times["decode"] = time.perf_counter() - started
    if page is not None:
        try:
            article = analyze(page, limits=limits, observe=observe)
            fingerprint(article, limits=limits, observe=observe)
        except StageError as exc:
            tally.outcomes[f"{exc.stage}/{exc.reason}"] += 1
            if exc.reason == "internal_error":
                cause = exc.__cause__ or exc
                finding(
                    "internal_error",
                    f"{exc.stage}: {_where(cause)}",
                    "".join(traceback.format_exception(cause)),
                )
        except Exception as exc:
            tally.outcomes["escape"] += 1
            finding("escape", f"analyze: {_where(exc)}", traceback.format_exc())
        else:
            try:
                document = article.to_dict()
                validate("article", document)
                article.to_json()
            except Exception as exc:
                tally.outcomes["escape"] += 1
                finding("escape", f"output: {_where(exc)}", traceback.format_exc())
            else:
                problem = _output_problem(document, article.text, case.expect)
                if problem:
                    tally.outcomes["bad_output"] += 1
                    finding("bad_output", problem, f"{problem}\n\n{article.text[:2000]}")
                else:
                    tally.outcomes["article"] += 1
    for stage, seconds in times.items():
        tally.time(stage, seconds, index, case.family)
        if seconds > budget:
            finding("slow", f"{stage} over {budget:g} s ({case.family})", f"{stage}: {seconds:.2f} s")


def run_range(start: int, stop: int, seed: int, limits: Limits, budget: float) -> Tally:
    load_models()
    generator = Generator(_corpus(), seed)
    tally = Tally()
    for index in range(start, stop):
        check(index, generator.case(index), limits, budget, tally)
    return tally


@functools.cache
def _corpus() -> tuple[bytes, ...]:
    return tuple(load_corpus())


def _run_range_args(args: tuple[int, int, int, Limits, float]) -> Tally:
    return run_range(*args)


def save_findings(findings: list[Finding], out: Path) -> list[Path]:
    """The first few reproducers of each distinct signature: ``<kind>-<n>.bin`` and ``.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    per_signature: Counter[str] = Counter()
    for number, item in enumerate(findings, start=1):
        per_signature[item.signature] += 1
        if per_signature[item.signature] > _SAVED_PER_SIGNATURE:
            continue
        path = out / f"{item.kind}-{number:04d}.bin"
        path.write_bytes(item.value)
        path.with_suffix(".txt").write_text(
            f"case {item.case} ({item.family}): {item.signature}\n\n{item.detail}\n", "utf-8"
        )
        saved.append(path)
    return saved


def report(tally: Tally, seconds: float, budget: float, saved: list[Path]) -> str:
    lines = [
        f"cases: {tally.count:,} in {seconds:,.1f} s ({tally.count / seconds:,.1f} cases/s)",
        "outcomes:",
        *(f"  {outcome:32} {number:>8,}" for outcome, number in tally.outcomes.most_common()),
        "families: " + ", ".join(f"{family} {number:,}" for family, number in sorted(tally.families.items())),
        f"slowest page per stage (budget {budget:g} s):",
    ]
    for stage in STAGES:
        if stage in tally.slowest:
            worst, case, family = tally.slowest[stage]
            lines.append(f"  {stage:12} {worst * 1000:9.1f} ms  case {case} ({family})")
    signatures = Counter(f"{item.kind}: {item.signature}" for item in tally.findings)
    lines.append(f"findings: {len(tally.findings)}")
    lines += [f"  {number:>6}  {signature_}" for signature_, number in signatures.most_common()]
    lines += [f"  reproducer: {path}" for path in saved]
    return "\n".join(lines)


def replay(path: Path, limits: Limits, budget: float) -> int:
    """Run one saved record value again, printing its outcome and any traceback."""
    load_models()
    tally = Tally()
    check(0, Case("replay", path.read_bytes()), limits, budget, tally)
    print(dict(tally.outcomes), {stage: f"{t * 1000:.1f} ms" for stage, (t, _, _) in tally.slowest.items()})
    for item in tally.findings:
        print(f"{item.kind}: {item.signature}\n{item.detail}")
    return 1 if tally.findings else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000, help="cases to run (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_LIMITS.stage_seconds, help="seconds per stage"
    )
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"), help="where reproducers go")
    parser.add_argument("--replay", type=Path, help="run one saved reproducer instead")
    args = parser.parse_args(argv)
    # The budget is checked here, to report every overrun; analyze would stop the page there.
    limits = Limits(stage_seconds=float("inf"))
    if args.replay:
        return replay(args.replay, limits, args.budget)
    started = time.perf_counter()
    chunks = 50 * args.jobs
    bounds = [args.count * i // chunks for i in range(chunks + 1)]
    work = [(a, b, args.seed, limits, args.budget) for a, b in itertools.pairwise(bounds) if b > a]
    tally = Tally()
    args.out.mkdir(parents=True, exist_ok=True)

    def merge(part: Tally) -> None:
        """Add a finished chunk; the report so far goes to OUT/progress.txt (a long run may be cut)."""
        tally.merge(part)
        print(f"\r{tally.count:,} / {args.count:,}", end="", file=sys.stderr, flush=True)
        so_far = report(tally, time.perf_counter() - started, args.budget, [])
        (args.out / "progress.txt").write_text(so_far + "\n", "utf-8")

    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for part in pool.imap_unordered(_run_range_args, work):
                merge(part)
    else:
        for item in work:
            merge(_run_range_args(item))
    print(file=sys.stderr)
    seconds = time.perf_counter() - started
    saved = save_findings(tally.findings, args.out)
    print(report(tally, seconds, args.budget, saved))
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
