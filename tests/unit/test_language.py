"""Language stage: the Arabic-script languages told apart, Kurdish in both scripts, spans on
mixed pages, short and empty text. Every sentence here was written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.language import (
    MAX_CHARS,
    PAGE_PREFIX,
    SAME_SCRIPT_MIN_CONFIDENCE,
    UNKNOWN,
    LanguageGuess,
    _blank_urls,
    analyze,
    detect_language,
    language_spans,
    load_models,
    paragraph_languages,
)
from agents.language.rules import arabic_script_rule, looks_kurmanji

ARABIC = "قال وزير الخارجية إن بلاده تسعى إلى تعزيز التعاون الاقتصادي مع دول الجوار خلال العام المقبل."
ARABIC_2 = "وأضاف المتحدث باسم الحكومة أن الاجتماع المقبل سيعقد في القاهرة بحضور ممثلين عن الدول العربية."
ENGLISH = "The foreign minister said on Tuesday that the two countries would expand their trade next year."
CAPTION = "Protesters gather outside the parliament building in the capital on Monday."

SENTENCES: dict[str, list[str]] = {
    "ar": [ARABIC, ARABIC_2],
    "fa": [
        "وزیر امور خارجه ایران گفت این سفر برای گسترش همکاری‌های اقتصادی میان دو کشور بسیار مهم است.",
        "او روز گذشته در یک نشست خبری گفت که دولت هیچ برنامه‌ای برای افزایش قیمت بنزین ندارد.",
        # Heavy in Arabic loanwords, still Persian.
        "رئیس جمهور در این جلسه گفت که امنیت ملی و اقتصاد کشور در اولویت دولت است.",
    ],
    "ur": [
        "وزیر اعظم نے کہا ہے کہ حکومت مہنگائی پر قابو پانے کے لیے تمام ضروری اقدامات کر رہی ہے۔",
        "پاکستان اور ترکی کے درمیان تجارتی تعلقات کو مزید مضبوط بنانے پر اتفاق ہو گیا ہے۔",
    ],
    "ps": [
        "د افغانستان د بهرنیو چارو وزارت ویلي چې له ګاونډیو هېوادونو سره اړیکې ښې دي.",
        "په کابل کې نن سهار د ښاروالۍ یوه غونډه جوړه شوه او د ښار د پاکوالي په اړه خبرې وشوې.",
    ],
    "ug": [
        "ئۇيغۇر تىلى تۈركىي تىللار ئائىلىسىگە مەنسۇپ بولۇپ، شىنجاڭدا كەڭ قوللىنىلىدۇ.",
        "بۈگۈن ئۈرۈمچىدە ھاۋا ئوچۇق بولىدۇ، كەچتە بىر ئاز شامال چىقىدۇ.",
    ],
    "sd": [
        "سنڌي ٻولي دنيا جي قديم ٻولين مان هڪ آهي ۽ پاڪستان ۾ ڪروڙين ماڻهو ڳالهائين ٿا.",
        "ڪراچي ۾ اڄ مينهن پوڻ جو امڪان آهي، محڪمي موسميات ٻڌايو.",
    ],
    "en": [ENGLISH, CAPTION],
    "fr": [
        "Le gouvernement a annoncé mardi une nouvelle réforme des retraites.",
        # Circumflexes, as in Kurmanji, but French words and accents.
        "Il faut être prêt à reconnaître que la fête a coûté cher.",
    ],
    "tr": [
        "Dışişleri Bakanı, iki ülke arasındaki ekonomik işbirliğinin önümüzdeki yıl güçleneceğini söyledi.",
        "Hâlâ kararını vermedi, ama Türkiye'nin tutumu açık.",
    ],
    "pt": ["Você vai no mês que vem para três reuniões em Lisboa."],
    "de": ["Die Regierung will die Steuern im nächsten Jahr senken, sagte der Minister."],
    "ru": ["Министр иностранных дел заявил, что переговоры продолжатся на следующей неделе."],
    "he": ["ראש הממשלה אמר כי הממשלה תדון בתקציב החדש בשבוע הבא."],
}
SORANI = [
    "سەرۆکی حکومەتی هەرێمی کوردستان ڕایگەیاند کە پەیوەندییەکان لەگەڵ بەغدا باشتر دەبن.",
    "ئەمڕۆ لە شاری هەولێر کۆبوونەوەیەک بۆ باسکردنی بودجەی ساڵی داهاتوو ئەنجام درا.",
]
KURMANJI = [
    "Serokê hikûmetê got ku têkiliyên bi welatên cîran re dê di sala bê de xurttir bibin.",
    "Li bajarê Amedê îro gelek kes ji bo pîrozkirina Newrozê li qadê kom bûn.",
    "Rewşa aboriyê li herêmê giran dibe",  # a headline: no function word but "li"
]


@pytest.fixture(scope="module", autouse=True)
def _models() -> None:
    load_models()


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in SENTENCES.items() for text in texts]
)
def test_sentence_languages(code: str, text: str) -> None:
    guess = detect_language(text)
    assert guess.code == code
    assert guess.variant is None
    assert 0.5 < guess.confidence <= 1.0


@pytest.mark.parametrize("text", SORANI)
def test_sorani_is_kurdish_not_persian_or_arabic(text: str) -> None:
    assert detect_language(text) == LanguageGuess("ku", detect_language(text).confidence, "ckb")


@pytest.mark.parametrize("text", KURMANJI)
def test_kurmanji_is_kurdish_not_turkish(text: str) -> None:
    guess = detect_language(text)
    assert (guess.code, guess.variant) == ("ku", "kmr")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ښار", "ps"),  # one Pashto-only letter decides
        ("ڪراچي", "sd"),
        ("شىنجاڭ", "ug"),
        ("هەولێر", "ckb"),
        ("ہوگا", "ur"),
    ],
)
def test_letters_only_one_language_writes_decide(text: str, code: str) -> None:
    assert arabic_script_rule(text, len(text)).code == code


def test_shared_letters_leave_the_choice_to_the_identifier() -> None:
    verdict = arabic_script_rule("کتاب", 4)  # Persian and Urdu alike
    assert verdict.code is None
    assert set(verdict.candidates) >= {"ar", "fa", "ur"}


def test_a_stray_letter_does_not_turn_a_long_persian_text_into_pashto() -> None:
    persian = SENTENCES["fa"][0] * 3
    assert arabic_script_rule(persian + " ښ", len(persian)).code is None


@pytest.mark.parametrize(
    "text",
    [
        "Le ministre a dû reconnaître que la côte était plus sûre.",
        "Você vai no mês que vem para três reuniões em Lisboa.",
        "Thủ tướng nói rằng nền kinh tế sẽ tăng trưởng mạnh trong năm tới.",
        "Hâlâ kararını vermedi, ama Türkiye'nin tutumu açık.",
        "fenêtre maître",  # two French words with circumflexes
    ],
)
def test_circumflexes_alone_do_not_make_kurmanji(text: str) -> None:
    assert not looks_kurmanji(text, sum(char.isalpha() for char in text))


@pytest.mark.parametrize(
    "text", ["", "   ", "ab", "2024 ٢٠٢٤ ۱۴۰۳", "https://example.com/news/2024/12/26/story-1234"]
)
def test_no_letters_is_unknown(text: str) -> None:
    assert detect_language(text) == UNKNOWN


@pytest.mark.parametrize("word", ["کتاب", "Hello world", "information"])
def test_an_ambiguous_word_is_answered_with_low_confidence(word: str) -> None:
    guess = detect_language(word)
    assert guess.code is not None
    assert guess.confidence < 0.9 < detect_language(ARABIC).confidence


def test_urls_and_e_mail_addresses_are_blanked_in_place() -> None:
    text = f"{ARABIC} https://www.example.com/english/words/here write@example.com"
    blanked = _blank_urls(text)
    assert len(blanked) == len(text)
    assert "http" not in blanked
    assert "@" not in blanked
    assert [span.code for span in language_spans(text)] == ["ar"]


def test_long_text_is_bounded() -> None:
    assert len(ARABIC) * 5_000 > MAX_CHARS
    assert detect_language(ARABIC * 5_000).code == "ar"


def test_arabic_page_with_an_english_caption_on_its_own_line() -> None:
    text = f"{ARABIC} {ARABIC_2}\n{CAPTION}\n{ARABIC_2}"
    page = analyze(text)
    assert page.language.code == "ar"
    assert [span.code for span in page.spans] == ["ar", "en", "ar"]
    english = page.spans[1]
    assert text[english.start : english.end] == CAPTION  # whole sentences, punctuation included
    assert english.script == "Latn"


def test_english_caption_before_the_paragraph_on_the_same_line() -> None:
    persian = SENTENCES["fa"][0] + " " + SENTENCES["fa"][1]
    text = f"{CAPTION} {persian}"
    page = analyze(text)
    assert page.language.code == "fa"
    assert [span.code for span in page.spans] == ["en", "fa"]
    assert text[page.spans[0].start : page.spans[0].end] == CAPTION
    assert text[page.spans[1].start :].startswith("وزیر")


def test_latin_names_inside_an_arabic_sentence_make_no_span() -> None:
    text = "التقى الرئيس مع Emmanuel Macron و Olaf Scholz في باريس أمس لبحث العلاقات الثنائية بين البلدين."
    assert [span.code for span in language_spans(text)] == ["ar"]


def test_short_lines_join_the_span_of_their_script() -> None:
    text = f"{ARABIC}\nAFP\n{ARABIC_2}"
    spans = language_spans(text)
    assert [(span.code, span.start, span.end) for span in spans] == [("ar", 0, len(text))]
    # A short Arabic credit after an English caption goes with the Arabic text after it.
    text = f"{ARABIC}\n\n{CAPTION}\n\n(أ ف ب)\n\n{ARABIC_2}"
    spans = language_spans(text)
    assert [span.code for span in spans] == ["ar", "en", "ar"]
    assert text[spans[1].start : spans[1].end] == CAPTION
    assert text[spans[2].start :].startswith("(أ ف ب)")


def test_english_page_with_an_arabic_quote_stays_english() -> None:
    # Latin letters count a third beside another script's: an English page stays English
    # while its Latin letters outnumber the Arabic ones more than three to one.
    text = "\n".join([ENGLISH, CAPTION, ENGLISH, CAPTION, ARABIC])
    page = analyze(text)
    assert page.language.code == "en"
    assert [span.code for span in page.spans] == ["en", "ar"]


def test_paragraph_languages() -> None:
    guesses = paragraph_languages([ARABIC, ENGLISH, SORANI[0], "", KURMANJI[0]])
    assert [(guess.code, guess.variant) for guess in guesses] == [
        ("ar", None),
        ("en", None),
        ("ku", "ckb"),
        (None, None),
        ("ku", "kmr"),
    ]


def test_seed_pages_are_arabic(seeds_dir: Path) -> None:
    pages = sorted(seeds_dir.glob("*.txt"))
    assert len(pages) == 5
    for page in pages:
        guess = detect_language(page.read_text(encoding="utf-8"))
        assert guess.code == "ar", page.name
        assert guess.confidence > 0.9


# --------------------------------------------------------------------------- other-language spans
# Article texts (paragraphs joined by blank lines, as the pipeline publishes them), written for
# these tests. PageLanguages.others() is what lands in the Article's other_language_spans.

ARTICLE_AR = [
    "أعلنت وزارة الصحة في بيان رسمي صباح اليوم عن افتتاح ثلاثة مستشفيات جديدة في المحافظات الجنوبية، "
    "وذلك ضمن خطة الحكومة لتحسين الخدمات الطبية.",
    "وقال وزير الصحة خلال مؤتمر صحفي إن المستشفيات الجديدة ستستقبل المرضى اعتباراً من الأسبوع المقبل، "
    "وإنها مجهزة بأحدث الأجهزة.",
    "وأضاف أن الوزارة تعمل على تدريب مئات الأطباء والممرضين للعمل في هذه المستشفيات خلال الأشهر القادمة.",
]
ARTICLE_FA = [
    "سازمان هواشناسی کشور امروز اعلام کرد که در روزهای آینده باران‌های شدیدی در استان‌های شمالی پیش‌بینی می‌شود.",
    "به گفته کارشناسان این سازمان، مردم باید از سفرهای غیرضروری به مناطق کوهستانی خودداری کنند.",
    "همچنین مدارس برخی از شهرها ممکن است روز شنبه تعطیل شوند و تصمیم نهایی را استانداران خواهند گرفت.",
]
ARTICLE_UR = [
    "وزیر اعلیٰ نے آج صوبے کے مختلف اضلاع میں سیلاب سے متاثرہ علاقوں کا دورہ کیا اور امدادی کاموں کا "
    "جائزہ لیا۔",
    "انہوں نے کہا کہ حکومت متاثرین کی بحالی کے لیے ہر ممکن اقدامات کرے گی اور کسی کو تنہا نہیں چھوڑا "
    "جائے گا۔",
    "محکمہ موسمیات کے مطابق آئندہ چند دنوں میں مزید بارشوں کا امکان ہے، اس لیے شہری احتیاط کریں۔",
]
PHOTO_CAPTION = "The health minister opens a new hospital in the south of the country on Sunday."


def others(text: str) -> list[tuple[str | None, str]]:
    """(language, text) of each other-language span."""
    return [(span.code, text[span.start : span.end]) for span in analyze(text).others()]


def without_others(text: str) -> str:
    """The text with its other-language spans cut out, as a user of the field would."""
    kept, position = [], 0
    for span in analyze(text).others():
        kept.append(text[position : span.start])
        position = span.end
    return "".join(kept) + text[position:]


@pytest.mark.parametrize("paragraphs", [ARTICLE_AR, ARTICLE_FA, ARTICLE_UR], ids=["ar", "fa", "ur"])
def test_a_monolingual_article_has_no_other_language_spans(paragraphs: list[str]) -> None:
    assert others("\n\n".join(paragraphs)) == []


@pytest.mark.parametrize(
    ("paragraphs", "code"),
    [(ARTICLE_AR, "ar"), (ARTICLE_FA, "fa"), (ARTICLE_UR, "ur")],
    ids=["ar", "fa", "ur"],
)
def test_an_english_caption_paragraph_is_listed_and_cut_out_cleanly(paragraphs: list[str], code: str) -> None:
    text = "\n\n".join([paragraphs[0], PHOTO_CAPTION, *paragraphs[1:]])
    page = analyze(text)
    assert page.language.code == code
    assert others(text) == [("en", PHOTO_CAPTION)]
    assert page.others()[0].confidence >= 0.95
    rest = without_others(text)
    assert not any("a" <= char.lower() <= "z" for char in rest)  # no English left, not a stray "."
    assert analyze(rest).others() == ()


def test_a_caption_on_the_paragraphs_own_line_is_listed_alone() -> None:
    # Persian: the caption ends before the paragraph on the same line.
    text = "\n\n".join([f"{PHOTO_CAPTION} {ARTICLE_FA[0]}", *ARTICLE_FA[1:]])
    assert others(text) == [("en", PHOTO_CAPTION)]
    assert without_others(text).startswith(" " + ARTICLE_FA[0])


def test_a_persian_quote_in_an_arabic_article_is_listed() -> None:
    quote = "او در پیامی نوشت: ما همیشه در کنار مردم این کشور خواهیم بود و از هیچ کمکی دریغ نخواهیم کرد."
    text = "\n\n".join([ARTICLE_AR[0], ARTICLE_AR[1], quote, ARTICLE_AR[2]])
    assert analyze(text).language.code == "ar"
    assert others(text) == [("fa", quote)]


def test_latin_names_and_credits_in_an_arabic_article_are_not_listed() -> None:
    names = "التقى الرئيس مع Emmanuel Macron و Olaf Scholz في باريس أمس لبحث العلاقات الثنائية بين البلدين."
    text = "\n\n".join([ARTICLE_AR[0], names, "AFP", ARTICLE_AR[2]])
    assert others(text) == []


def test_an_unsure_reading_in_the_pages_own_script_is_not_listed() -> None:
    """A name line reads as Dutch at 0.90 (eldc: unreliable): in the page's own script that is
    noise, not a span to cut out."""
    line = "Producer: Christen Pinkston"
    text = "\n\n".join([ENGLISH, line, CAPTION])
    page = analyze(text)
    assert [span.code for span in page.spans] == ["en", "nl", "en"]
    assert page.spans[1].confidence < SAME_SCRIPT_MIN_CONFIDENCE
    assert page.others() == ()


def test_no_other_language_spans_without_a_page_language() -> None:
    assert analyze("").others() == ()
    assert analyze("ok").others() == ()


def test_spans_cover_text_after_the_pages_language_prefix() -> None:
    """The page's language is read from its start; spans still cover the whole text."""
    body = "\n\n".join(ARTICLE_AR * 30)
    assert len(body) > 2 * PAGE_PREFIX
    text = f"{body}\n\n{PHOTO_CAPTION}"
    assert others(text) == [("en", PHOTO_CAPTION)]
    assert analyze(text).language == detect_language(text)
