"""Language stage: Arabic told apart from Persian, Urdu and Kurdish; short text is unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.language import MAX_CHARS, LanguageGuess, _prepare, detect_language, paragraph_languages

ARABIC = "قال وزير الخارجية إن بلاده تسعى إلى تعزيز التعاون الاقتصادي مع دول الجوار خلال العام المقبل."
PERSIAN = [
    "وزیر امور خارجه ایران گفت این سفر برای گسترش همکاری‌های اقتصادی میان دو کشور بسیار مهم است.",
    "او روز گذشته در یک نشست خبری گفت که دولت هیچ برنامه‌ای برای افزایش قیمت بنزین ندارد.",
    # Heavy in Arabic loanwords, still Persian.
    "رئیس جمهور در این جلسه گفت که امنیت ملی و اقتصاد کشور در اولویت دولت است.",
]
URDU = [
    "وزیر اعظم نے کہا ہے کہ حکومت مہنگائی پر قابو پانے کے لیے تمام ضروری اقدامات کر رہی ہے۔",
    "پاکستان اور ترکی کے درمیان تجارتی تعلقات کو مزید مضبوط بنانے پر اتفاق ہو گیا ہے۔",
]
SORANI = "سەرۆکی حکومەتی هەرێمی کوردستان ڕایگەیاند کە پەیوەندییەکان لەگەڵ بەغدا باشتر دەبن."
ENGLISH = "The foreign minister said on Tuesday that the two countries would expand their trade next year."
TURKISH = "Dışişleri Bakanı, iki ülke arasındaki ekonomik işbirliğinin önümüzdeki yıl güçleneceğini söyledi."


def test_arabic() -> None:
    guess = detect_language(ARABIC)
    assert guess.code == "ar"
    assert 0.5 < guess.confidence <= 1.0


@pytest.mark.parametrize("text", PERSIAN)
def test_persian_is_never_arabic(text: str) -> None:
    assert detect_language(text).code == "fa"


@pytest.mark.parametrize("text", URDU)
def test_urdu_is_never_arabic(text: str) -> None:
    assert detect_language(text).code == "ur"


def test_sorani_kurdish_is_not_arabic() -> None:
    assert detect_language(SORANI).code == "ku"


@pytest.mark.parametrize(("text", "code"), [(ENGLISH, "en"), (TURKISH, "tr")])
def test_latin_script_languages(text: str, code: str) -> None:
    assert detect_language(text).code == code


@pytest.mark.parametrize(
    "text",
    ["", "   ", "مرحبا بكم", "Hello world", "https://example.com/news/2024/12/26/story-1234 ٢٠٢٤ 2024 ۱۴۰۳"],
)
def test_short_text_is_unknown(text: str) -> None:
    assert detect_language(text) == LanguageGuess(None, 0.0)


def test_urls_and_digits_do_not_count_as_letters() -> None:
    assert "http" not in _prepare(f"{ARABIC} https://www.example.com/english/words/here 12345")
    assert not any(char.isdigit() for char in _prepare("٢٠٢٤ ۱۴۰۳ 2024 نص"))


def test_long_text_is_bounded() -> None:
    prepared = _prepare(ARABIC * 5_000)
    assert len(prepared) <= MAX_CHARS
    assert detect_language(ARABIC * 5_000).code == "ar"


def test_arabic_article_with_english_caption_stays_arabic() -> None:
    caption = "Canadian Prime Minister speaks at a United Nations General Assembly meeting in New York."
    assert detect_language(f"{caption}\n{ARABIC}\n{ARABIC}").code == "ar"


def test_paragraph_languages() -> None:
    guesses = paragraph_languages([ARABIC, ENGLISH, "قصير"])
    assert [guess.code for guess in guesses] == ["ar", "en", None]


def test_seed_pages_are_arabic(seeds_dir: Path) -> None:
    pages = sorted(seeds_dir.glob("*.txt"))
    assert len(pages) == 5
    for page in pages:
        guess = detect_language(page.read_text(encoding="utf-8"))
        assert guess.code == "ar", page.name
        assert guess.confidence > 0.9
