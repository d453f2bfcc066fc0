"""Near-duplicate core (agents.dedupe.near): what a copy shares, what a neighbour does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from agents.dedupe.near import (
    BANDS,
    NEAR_DUPLICATE_JACCARD,
    PERMUTATIONS,
    band_keys,
    jaccard,
    shingles,
    signature,
)

REPO = Path(__file__).resolve().parents[2]

STORY = (
    "أعلنت وزارة الموارد المائية والري أن منسوب المياه في بحيرة السد ارتفع خلال الأسبوع الماضي "
    "إلى أعلى مستوى له منذ عشر سنوات، بعد أمطار غزيرة شهدتها المناطق الجنوبية.\n"
    "وقال المتحدث باسم الوزارة إن فرق الرصد تتابع على مدار الساعة حركة المياه في القنوات "
    "الرئيسية، مؤكدا أن الوزارة أعدت خطة لتصريف الكميات الزائدة دون الإضرار بالأراضي الزراعية.\n"
    "وأضاف أن كمية الأمطار التي هطلت على الإقليم بلغت 145 مليمترا في ثلاثة أيام، وهي كمية "
    "تعادل ما يسقط عادة خلال شهرين كاملين، داعيا المزارعين إلى متابعة النشرات الصادرة عن الوزارة.\n"
    "وكانت الحكومة قد خصصت الشهر الماضي اعتمادات إضافية لصيانة السدود الصغيرة وتطهير المجاري "
    "المائية في القرى الواقعة على ضفاف الوادي."
)
# The same text as another site spells it: diacritics, tatweel, hamza dropped, alef
# maqsura for final ya, ha for ta marbuta, Arabic-Indic digits.
SPELLED = (
    "أَعلنت وزارةُ المـوارد المائيه والري ان منسوب المياه فى بحيرة السـد ارتفع خلال الأُسبوع الماضي "
    "الى أعلى مستوى له منذ عشر سنوات، بعد أمطار غزيرة شَهِدَتها المناطق الجنوبية.\n"
    "وقال المتحدث باسم الوزارة ان فرق الرصد تتابـــع على مدار الساعه حركة المياه في القنوات "
    "الرئيسية، مؤكداً أن الوزارة أعدّت خطة لتصريف الكميات الزائدة دون الإضرار بالأراضي الزراعية.\n"
    "وأضاف أن كمية الأمطار التي هطلت على الإقليم بلغت ١٤٥ مليمترا فى ثلاثة أيام، وهي كمية "
    "تعادل ما يسقط عادة خلال شهرين كاملين، داعياً المزارعين الى متابعة النشرات الصادرة عن الوزارة.\n"
    "وكانت الحكومة قد خصصت الشهر الماضي اعتمادات إضافية لصيانة السدود الصغيره وتطهير المجاري "
    "المائية فى القرى الواقعة على ضفاف الوادي."
)
DATELINE = "الخرطوم - (رويترز) - "
CREDIT = "\n(إعداد محمد علي للنشرة العربية - تحرير سها جادو)"

HEADER = "الرئيسية » أخبار محلية\n"
FOOTER = (
    "\nتابعونا على فيسبوك وتويتر وإنستغرام لمتابعة آخر الأخبار لحظة بلحظة"
    "\nاقرأ أيضا: انطلاق معرض الكتاب بمشاركة 40 دولة"
    "\nجميع الحقوق محفوظة لموقع صوت البلد ©"
)
OTHER_STORY = (
    "افتتح محافظ الإقليم صباح اليوم المستشفى الجديد في مدينة الوادي بطاقة استيعابية تبلغ 200 سرير، "
    "بحضور عدد من المسؤولين وممثلي المجتمع المحلي.\n"
    "وقال المحافظ إن المستشفى يضم أقساما للطوارئ والجراحة وطب الأطفال، وإنه سيخدم نحو نصف مليون "
    "نسمة في القرى المجاورة التي كان سكانها يقطعون مسافات طويلة لتلقي العلاج.\n"
    "وأوضح مدير الصحة أن التشغيل سيتم على مراحل، على أن تكتمل الأقسام كافة قبل نهاية العام."
)


def test_a_copy_that_differs_only_in_spelling_has_the_same_shingles() -> None:
    assert SPELLED != STORY
    assert shingles(SPELLED) == shingles(STORY)
    assert band_keys(signature(shingles(SPELLED))) == band_keys(signature(shingles(STORY)))


def test_a_copy_with_a_dateline_and_a_credit_is_a_candidate_and_verifies() -> None:
    copy = DATELINE + SPELLED + CREDIT
    original, syndicated = shingles(STORY), shingles(copy)
    assert set(band_keys(signature(original))) & set(band_keys(signature(syndicated)))
    similarity = jaccard(original, syndicated)
    assert NEAR_DUPLICATE_JACCARD <= similarity < 1.0


def test_two_stories_on_the_same_template_do_not_verify() -> None:
    first, second = shingles(HEADER + STORY + FOOTER), shingles(HEADER + OTHER_STORY + FOOTER)
    assert first & second  # the template's lines are shared ...
    assert jaccard(first, second) < NEAR_DUPLICATE_JACCARD  # ... but not enough to be a copy


def test_band_keys_name_their_band() -> None:
    keys = band_keys(signature(shingles(STORY)))
    assert len(keys) == BANDS == len(set(keys))
    assert [key[:2] for key in keys] == [f"{band:02d}" for band in range(BANDS)]


def test_signature_is_the_same_in_another_process() -> None:
    """Band keys are stored in state tables: they must not depend on the process (hash seed)."""
    here = signature(shingles(STORY))
    assert here.shape == (PERMUTATIONS,) and here.dtype == np.uint64
    script = (
        "import json, sys\n"
        "from agents.dedupe.near import band_keys, shingles, signature\n"
        "sig = signature(shingles(sys.stdin.read()))\n"
        "print(json.dumps([[int(v) for v in sig], band_keys(sig)]))\n"
    )
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=STORY,
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=True,
            encoding="utf-8",
        )
        values, keys = json.loads(done.stdout)
        assert values == [int(v) for v in here]
        assert keys == band_keys(here)


def test_signature_is_the_classic_permutation_family() -> None:
    """Band keys are stored state: each value is min over shingles of ((a * x mod p) + b) mod p,
    computed here with Python's integers (the largest hashes too, where uint64 could overflow)."""
    from agents.dedupe.near import _A, _B, _PRIME

    prime = int(_PRIME)
    hashes = frozenset({0, 1, 7, prime - 1, prime, (1 << 32) - 1, 0x6D328849, 0xD774536D})
    permutations = [(int(a), int(b)) for a, b in zip(_A, _B, strict=True)]
    expected = [min((a * (x % prime) % prime + b) % prime for x in hashes) for a, b in permutations]
    assert [int(value) for value in signature(hashes)] == expected


def test_shingles_are_pinned() -> None:
    """Shingle hashes are stored state: BLAKE2b-32 of five matching-form words, space-joined."""
    assert shingles("One, two: THREE four five") == frozenset({0x6D328849})
    assert shingles("one two three four five six") == frozenset({0x6D328849, 0xD774536D})
    assert len(shingles("two words")) == 1 and shingles("") == frozenset()
