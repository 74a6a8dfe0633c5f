"""Figures on sentences written for these tests, and on the project's two samples."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdesk import nlp
from newsdesk.figures import COMPONENT, consistent, extract_figures, group_figures, same_quantity
from newsdesk.records import Figure

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def parse():  # type: ignore[no-untyped-def]
    return nlp.load()


def figures(parse, text: str, article: str = "a") -> list[Figure]:  # type: ignore[no-untyped-def]
    found = extract_figures(text, article, doc=parse(text))
    for f in found:
        assert text[f.start : f.end] == f.text
        assert f.article == article
    return found


def only(parse, text: str, article: str = "a") -> Figure:  # type: ignore[no-untyped-def]
    found = figures(parse, text, article)
    assert len(found) == 1, found
    return found[0]


def test_component_is_versioned() -> None:
    assert COMPONENT.startswith("figures.") and COMPONENT.rsplit(".", 1)[1].startswith("v")


CASES = [
    # sentence, figure text, value, unit, counts, kind, approx
    (
        "The ministry said roughly 15,000 troops crossed the river.",
        "roughly 15,000 troops",
        15000,
        "troops",
        "troops",
        "count",
        True,
    ),
    ("The gunmen killed 12 people at the market.", "12 people", 12, "people", "dead", "count", False),
    ("Twelve people were killed in the flood.", "Twelve people", 12, "people", "dead", "count", False),
    ("Nine passengers died when the ferry sank.", "Nine passengers", 9, "passengers", "dead", "count", False),
    ("The blast wounded 30 workers at the plant.", "30 workers", 30, "workers", "injured", "count", False),
    ("At least 7 were hurt in the crush.", "At least 7", 7, None, "injured", "count", True),
    ("The landslide left 40 villagers dead.", "40 villagers", 40, "villagers", "dead", "count", False),
    ("The death toll from the fire rose to 23.", "23", 23, None, "dead", "count", False),
    (
        "The council approved $4.5 billion in aid for farmers.",
        "$4.5 billion",
        4.5e9,
        "USD",
        "aid",
        "money",
        False,
    ),
    (
        "The harbour project will cost 300 million euros.",
        "300 million euros",
        3e8,
        "EUR",
        "cost",
        "money",
        False,
    ),
    ("Prices rose 3.5 percent in the valley.", "3.5 percent", 3.5, "%", "prices", "percent", False),
    ("Turnout reached 3.5% among the voters.", "3.5%", 3.5, "%", "turnout", "percent", False),
    ("The driver, aged 45, was arrested.", "aged 45", 45, "years", "driver", "age", False),
    ("A 45-year-old woman was rescued from the river.", "45-year-old", 45, "years", "woman", "age", False),
    (
        "The company opened its mill three-and-a-half years ago.",
        "three-and-a-half years",
        3.5,
        "years",
        "open",
        "duration",
        False,
    ),
    (
        "The town marked the 80th anniversary of its founding.",
        "80th anniversary",
        80,
        None,
        "anniversary",
        "ordinal",
        False,
    ),
    (
        "Two dozen fishermen joined the protest.",
        "Two dozen fishermen",
        24,
        "fishermen",
        "fishermen",
        "count",
        False,
    ),
    (
        "The bridge was used by a million commuters.",
        "a million commuters",
        1e6,
        "commuters",
        "commuters",
        "count",
        False,
    ),
    (
        "The district has 1.2 million residents.",
        "1.2 million residents",
        1.2e6,
        "residents",
        "residents",
        "count",
        False,
    ),
    (
        "The rebels fielded thousands of fighters.",
        "thousands of fighters",
        None,
        "fighters",
        "fighters",
        "count",
        True,
    ),
    ("Dozens of boats waited at the harbour.", "Dozens of boats", None, "boats", "boats", "count", True),
    ("Officials counted nearly 2,000 tents.", "nearly 2,000 tents", 2000, "tents", "tents", "count", True),
    ("An estimated 600 ducks nested there.", "An estimated 600 ducks", 600, "ducks", "ducks", "count", True),
    ("The fund has more than 80 donors.", "more than 80 donors", 80, "donors", "donors", "count", True),
    (
        "Some 300 volunteers cleaned the beach.",
        "Some 300 volunteers",
        300,
        "volunteers",
        "volunteers",
        "count",
        True,
    ),
    ("The storm destroyed about 300 homes.", "about 300 homes", 300, "homes", "homes", "count", True),
    # pounds are a weight unless the text writes money in sterling
    ("AARP is the 800-pound gorilla of the lobby.", "800-pound", 800, "lb", "gorilla", "quantity",
     False),
    ("He lost 40 pounds in a year.", "40 pounds", 40, "lb", "lose", "quantity", False),
]


def test_pounds_are_money_where_the_text_writes_sterling() -> None:
    found = extract_figures("The fine was 500 pounds and a ticket cost £20.", "a")
    assert [(f.text, f.unit, f.kind) for f in found] == [
        ("500 pounds", "GBP", "money"), ("£20", "GBP", "money")]


@pytest.mark.parametrize(("sentence", "text", "value", "unit", "counts", "kind", "approx"), CASES)
def test_extracts(parse, sentence, text, value, unit, counts, kind, approx) -> None:  # type: ignore[no-untyped-def]
    f = only(parse, sentence)
    assert (f.text, f.unit, f.counts, f.kind, f.approx) == (text, unit, counts, kind, approx)
    assert f.value == (None if value is None else pytest.approx(value))
    assert f.start == sentence.index(text) and f.end == f.start + len(text)
    assert f.sentence == 0


def test_offsets_and_sentences_across_a_text(parse) -> None:  # type: ignore[no-untyped-def]
    text = "The mayor spoke briefly.\nThe flood killed 12 people. Another 40 residents were injured."
    found = figures(parse, text, "art-1")
    assert [(f.start, f.end, f.text) for f in found] == [(42, 51, "12 people"), (61, 73, "40 residents")]
    assert [f.sentence for f in found] == [1, 2]
    assert [f.counts for f in found] == ["dead", "injured"]


def test_words_to_numbers(parse) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Officials counted three hundred and forty two ballots, twenty-one observers, "
        "half a million leaflets and a dozen cameras."
    )
    values = {f.unit: f.value for f in figures(parse, text)}
    assert values == {"ballots": 342, "observers": 21, "leaflets": 5e5, "cameras": 12}


@pytest.mark.parametrize(
    "sentence",
    [
        "The dam was finished in 2024.",
        "The fair opened in August 2024 to large crowds.",
        "The vote was held on Sept. 5, 2025 in the capital.",
        "The train left at 10:30 a.m. on Monday.",
        "The details are on page 4 of the report.",
        "Readers can call 555-123-4567 for tickets.",
        "Details are posted at https://example.org/2024/10/story-123 today.",
        "One of the mayors resigned.",
        "The two mayors met on Friday.",
        "No one answered the phone.",
        "Music from the 1990s played all night.",
        "Residents of Ward 7 protested.",
        "The COVID-19 rules were lifted.",
        "It was the first time the river froze.",
        "Three-fifths of the council voted.",
        "One councillor said the plan was rushed.",
        "She gave a one-on-one interview.",
        # parts of names and ranks
        "Russia was expelled from what was then the Group of Eight.",
        "Britain's FTSE 100 sank on Tuesday.",
        "It looks like a boxy version of the Fiat 500.",
        "Mr. Mattis, a retired four-star Marine general, was rebuffed.",
        "He bought coffee at a 7-Eleven store.",
    ],
)
def test_skips_numbers_that_are_not_facts(parse, sentence: str) -> None:  # type: ignore[no-untyped-def]
    assert figures(parse, sentence) == []


def test_a_number_word_with_a_capital_after_a_dateline_is_a_fact(parse) -> None:  # type: ignore[no-untyped-def]
    f = only(parse, "DENVER — Two heartland states filed the first major court challenge.")
    assert f.value == 2 and f.counts == "states"


def test_list_numbering_is_skipped_but_the_item_text_is_read(parse) -> None:  # type: ignore[no-untyped-def]
    text = "Key points:\n1. The flood displaced 400 families.\n2. The bridge reopened."
    found = figures(parse, text)
    assert [f.text for f in found] == ["400 families"]


def test_one_is_kept_when_it_is_a_casualty_or_a_bound(parse) -> None:  # type: ignore[no-untyped-def]
    assert [(f.value, f.counts) for f in figures(parse, "One person was killed in the crash.")] == [
        (1, "dead")
    ]
    assert [(f.value, f.approx) for f in figures(parse, "At least one guard saw the car.")] == [(1, True)]


def test_vague_sums_of_money(parse) -> None:  # type: ignore[no-untyped-def]
    f = only(parse, "The mayor spent tens of thousands of dollars on flowers.")
    assert (f.kind, f.unit, f.value, f.approx) == ("money", "USD", None, True)


def test_kept_for_a_duration_despite_over(parse) -> None:  # type: ignore[no-untyped-def]
    f = only(parse, "Crews searched the hills over 3 days.")
    assert (f.kind, f.value, f.unit, f.approx, f.text) == ("duration", 3, "days", False, "3 days")


# --- comparing ------------------------------------------------------------------------


def fig(parse, sentence: str, article: str = "x") -> Figure:  # type: ignore[no-untyped-def]
    return only(parse, sentence, article)


PAIRS = [
    # a, b, same_quantity, consistent
    ("The quake killed 12 people.", "12 people were killed by the quake.", True, True),
    ("Police said 12 people were dead.", "The quake left 15 people dead.", True, False),
    ("The army sent 15,000 troops.", "The army sent thousands of troops.", True, True),
    ("The army sent roughly 15,000 troops.", "The army sent 15,200 troops.", True, True),
    ("The army sent 15,000 troops.", "The army sent 15,200 troops.", True, False),
    ("The army sent 15,000 troops.", "The army sent hundreds of troops.", True, False),
    ("The storm destroyed about 300 homes.", "The storm destroyed 312 homes.", True, True),
    ("The storm destroyed about 300 homes.", "The storm destroyed 400 homes.", True, False),
    ("The rebels fielded thousands of fighters.", "The rebels fielded thousands of fighters.", True, True),
    ("The rebels fielded thousands of fighters.", "The rebels fielded 3,000 fighters.", True, True),
    ("The rebels fielded thousands of fighters.", "The rebels fielded 9,999 fighters.", True, True),
    ("The rebels fielded thousands of fighters.", "The rebels fielded 500 fighters.", True, False),
    ("More than 200 were hurt.", "The blast injured 260 people.", True, True),
    ("More than 200 were hurt.", "The blast injured 150 people.", True, False),
    ("The council approved $4.5 billion in aid.", "The council approved $4.5 billion in aid.", True, True),
    ("The council approved $4.5 billion in aid.", "The council approved $5 billion in aid.", True, False),
    (
        "The council approved $4.5 billion in aid.",
        "The council approved 4.5 billion euros in aid.",
        False,
        False,
    ),
    ("The army sent 15,000 troops.", "The army sent 15,000 tanks.", False, True),
    ("The quake killed 12 people.", "The quake injured 12 people.", False, True),
    ("The quake killed 12 civilians.", "The quake killed 12 soldiers.", False, True),
    ("The quake killed 12 people.", "At least 12 dead after the quake.", True, True),
    ("The town marked the 80th anniversary of its founding.", "The 80th anniversary was quiet.", True, True),
    (
        "The town marked the 80th anniversary of its founding.",
        "The town marked its 79th anniversary.",
        True,
        False,
    ),
    # a share, however written, is one percentage
    ("There is a 2 in 3 chance that we win.", "He gave the party a two-in-three chance.", True, True),
    ("One in five Americans say so.", "20 percent of Americans say so.", True, True),
    ("One in five Americans say so.", "3 out of 10 Americans say so.", True, False),
]


def test_a_share_is_a_percentage(parse) -> None:  # type: ignore[no-untyped-def]
    f = only(parse, "Nearly 1 in 4 children live in poverty.")
    assert (f.text, f.kind, f.unit, f.counts, f.approx) == ("Nearly 1 in 4", "percent", "%", "children", True)
    assert f.value == pytest.approx(25.0)
    # a number and "in" with no whole after it is no share
    assert [(x.text, x.kind) for x in figures(parse, "They won 5 in a row.")] == [("5", "count")]


@pytest.mark.parametrize(("a", "b", "same", "agree"), PAIRS)
def test_same_quantity_and_consistent(parse, a: str, b: str, same: bool, agree: bool) -> None:  # type: ignore[no-untyped-def]
    fa, fb = fig(parse, a, "A"), fig(parse, b, "B")
    assert same_quantity(fa, fb) is same and same_quantity(fb, fa) is same
    assert consistent(fa, fb) is agree and consistent(fb, fa) is agree


def test_vague_amounts_need_a_counted_thing_to_compare() -> None:
    a = Figure("A", 0, 9, "thousands", None, None, None, "count", True)
    assert not same_quantity(a, a)
    assert consistent(a, a)


def test_samples(parse) -> None:  # type: ignore[no-untyped-def]
    clean = (SAMPLES / "003_1fbef299465c00bb.txt").read_text(encoding="utf-8")
    raw = (SAMPLES / "000_2a837432b18d5e63.txt").read_text(encoding="utf-8")
    found = figures(parse, clean, "003")
    troops = [f for f in found if f.counts == "troops" and f.value is not None]
    assert len(troops) == 1
    t = troops[0]
    assert (t.text, t.value, t.approx, t.kind) == ("roughly 15,000 troops", 15000, True, "count")
    anniversaries = [
        [f for f in figures(parse, s, n) if f.counts == "anniversary"]
        for n, s in (("003", clean), ("000", raw))
    ]
    assert [len(a) for a in anniversaries] == [1, 1]
    a, b = anniversaries[0][0], anniversaries[1][0]
    assert a.value == b.value == 80 and a.kind == b.kind == "ordinal"
    assert same_quantity(a, b) and consistent(a, b)
    # the raw scrape's "thousands of troops" agrees with the clean text's "roughly 15,000"
    vague = [f for f in figures(parse, raw, "000") if f.counts == "troops"]
    assert len(vague) == 1 and vague[0].value is None
    assert same_quantity(t, vague[0]) and consistent(t, vague[0])
    # nothing from the raw scrape's date line or its URL
    assert not any(f.value in (2025, 5) for f in figures(parse, raw, "000"))


def test_group_figures_is_a_deterministic_partition(parse) -> None:  # type: ignore[no-untyped-def]
    texts = {
        "a": "The army sent 15,000 troops. The quake killed 12 people.",
        "b": "The army sent thousands of troops and 300 tanks. At least 15 people were killed.",
        "c": "The quake left 12 people dead. The town marked its 80th anniversary.",
    }
    all_figs = [f for art, t in texts.items() for f in figures(parse, t, art)]
    groups = group_figures(all_figs)

    def key(f: Figure) -> tuple[str, int]:
        return f.article, f.start

    assert sorted((f for g in groups for f in g), key=key) == sorted(all_figs, key=key)
    by_counts = {(g[0].kind, g[0].counts): [(f.article, f.value) for f in g] for g in groups}
    assert by_counts[("count", "troops")] == [("a", 15000), ("b", None)]
    assert by_counts[("count", "dead")] == [("a", 12), ("b", 15), ("c", 12)]
    assert by_counts[("count", "tanks")] == [("b", 300)]
    for _ in range(5):
        shuffled = all_figs[:]
        random.shuffle(shuffled)
        assert group_figures(shuffled) == groups


def test_parses_when_no_doc_is_given_and_on_empty_input() -> None:
    assert extract_figures("") == []
    assert extract_figures("   \n") == []
    f = extract_figures("The flood killed 12 people.", "z")
    assert [(x.value, x.counts, x.article) for x in f] == [(12, "dead", "z")]


_WORDS = st.sampled_from(
    [
        "12",
        "15,000",
        "$",
        "4.5",
        "billion",
        "percent",
        "%",
        "-",
        "year",
        "old",
        "aged",
        "roughly",
        "thousands",
        "of",
        "troops",
        "killed",
        "the",
        "two",
        "one",
        "a",
        "million",
        "and",
        "half",
        "dozen",
        "80th",
        "anniversary",
        "in",
        "2024",
        "10:30",
        "page",
        "http://x.com/1",
        ".",
        ",",
        "\n",
        "1.",
        "three",
        "more",
        "than",
        "about",
        "0",
        "999999999999999999999",
        "½",
        "٣",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.lists(_WORDS, max_size=25).map(" ".join), st.text(max_size=120)))
def test_never_raises_and_offsets_hold(parse, text: str) -> None:  # type: ignore[no-untyped-def]
    found = extract_figures(text, "h", doc=parse(text))
    for f in found:
        assert text[f.start : f.end] == f.text
        assert f.start < f.end
    for f in found:
        for g in found:
            assert same_quantity(f, g) == same_quantity(g, f)
            consistent(f, g)
    group_figures(found)


def test_age_in_apposition_after_a_name() -> None:
    figs = extract_figures("Jane Morrow, 41, and her son Tom, 12, were rescued on Sunday.")
    ages = {(f.counts, f.value) for f in figs if f.kind == "age"}
    assert ages == {("jane morrow", 41.0), ("tom", 12.0)}
    assert not [f for f in extract_figures("In Denver, 3, people were hurt.") if f.kind == "age"]
    a = [f for f in extract_figures("Jane Morrow, 41, spoke first.", "a") if f.kind == "age"]
    b = [f for f in extract_figures("Her aide said Jane Morrow, 41, would run.", "b") if f.kind == "age"]
    assert a and b and same_quantity(a[0], b[0]) and consistent(a[0], b[0])
