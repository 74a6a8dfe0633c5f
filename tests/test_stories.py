"""Story placement: same event together, similar events apart, stable ids, corrections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from newsdesk.stories import (
    DEFAULT_CONFIG,
    ArticleFeatures,
    StoryConfig,
    StoryIndex,
    features_from_text,
    story_id_for,
    with_embedding,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# Two earthquakes in one week, a trial, and a rehab check-in: short texts written for these tests.
TEXTS = {
    "quake-a1": (
        "Magnitude 6.1 earthquake hits northern Chile",
        "A magnitude 6.1 earthquake struck near Iquique in northern Chile on Monday, the US Geological "
        "Survey said. Chilean officials reported two deaths and damaged homes in Iquique and Arica.",
        datetime(2014, 3, 17, tzinfo=UTC),
    ),
    "quake-a2": (
        "Two killed as strong quake shakes Iquique",
        "Two people were killed when a strong 6.1 magnitude earthquake shook the Chilean port city of "
        "Iquique on Monday. Houses were damaged in Iquique and Arica, officials in Chile said.",
        datetime(2014, 3, 17, tzinfo=UTC),
    ),
    "quake-b1": (
        "Earthquake of magnitude 5.4 strikes southern Mexico",
        "An earthquake of magnitude 5.4 struck Oaxaca state in southern Mexico on Saturday, shaking "
        "buildings in Mexico City. Mexican officials reported no deaths; a church in Oaxaca was damaged.",
        datetime(2014, 3, 22, tzinfo=UTC),
    ),
    "quake-b2": (
        "Oaxaca quake rattles Mexico City",
        "A 5.4 magnitude quake centred in Oaxaca rattled Mexico City on Saturday. Authorities in Mexico "
        "said no one died, though an old church in Oaxaca suffered damage.",
        datetime(2014, 3, 22, tzinfo=UTC),
    ),
    "trial-1": (
        "Jury convicts Smithers of fraud in Denver",
        "A federal jury in Denver convicted banker Alan Smithers of wire fraud on Thursday after a "
        "three-week trial over the collapse of Front Range Savings.",
        datetime(2014, 3, 20, tzinfo=UTC),
    ),
    "rehab-1": (
        "Actress Tara Reid checks into rehab",
        "Actress Tara Reid has entered the Promises Treatment Center in Malibu, her publicist said.",
        datetime(2014, 3, 19, tzinfo=UTC),
    ),
}


@pytest.fixture(scope="module")
def embedder():
    from newsdesk.embeddings import Embedder

    emb = Embedder()  # an installed dependency: its absence fails the tests
    emb.encode(["warm up"])
    return emb


@pytest.fixture(scope="module")
def feats(embedder) -> dict[str, ArticleFeatures]:
    from newsdesk.embeddings import embedding_text

    ids = list(TEXTS)
    vecs = embedder.encode([embedding_text(TEXTS[i][0], TEXTS[i][1]) for i in ids])
    return {
        i: features_from_text(i, TEXTS[i][1], v, title=TEXTS[i][0], published=TEXTS[i][2])
        for i, v in zip(ids, vecs, strict=True)
    }


def _run(feats: dict[str, ArticleFeatures], batches: list[list[str]]) -> dict[str, str]:
    idx = StoryIndex()
    for batch in batches:
        idx.place_many(feats[i] for i in batch)
    return {i: idx.story_of(i) or "" for b in batches for i in b}


ORDER = ["quake-a1", "rehab-1", "quake-b1", "quake-a2", "trial-1", "quake-b2"]


def test_same_event_clusters_and_similar_events_stay_apart(feats):
    got = _run(feats, [ORDER])
    assert got["quake-a1"] == got["quake-a2"]
    assert got["quake-b1"] == got["quake-b2"]
    assert got["quake-a1"] != got["quake-b1"]  # two earthquakes in one week: two stories
    assert len({got["quake-a1"], got["quake-b1"], got["trial-1"], got["rehab-1"]}) == 4


def test_same_event_without_titles_or_dates(embedder):
    texts = {k: v[1] for k, v in TEXTS.items() if k.startswith("quake")}
    vecs = embedder.encode(list(texts.values()))
    fs = [features_from_text(k, t, v) for (k, t), v in zip(texts.items(), vecs, strict=True)]
    idx = StoryIndex()
    out = {a.article_id: a for a in idx.place_many(fs)}
    assert out["quake-a2"].story_id == out["quake-a1"].story_id and not out["quake-a2"].new
    assert out["quake-b1"].new and out["quake-b2"].story_id == out["quake-b1"].story_id


def test_ids_stable_across_runs_and_batch_splits(feats):
    one = _run(feats, [ORDER])
    three = _run(feats, [ORDER[:2], ORDER[2:3], ORDER[3:]])
    again = _run(feats, [ORDER])
    assert one == three == again
    assert one["quake-a1"] == story_id_for("quake-a1")  # named after the founding article


def test_time_gap_keeps_same_wording_apart(feats):
    f = feats["quake-a2"]
    later = ArticleFeatures(
        id="quake-a2-next-year",
        embedding=f.embedding,
        terms=f.terms,
        names=f.names,
        title=f.title,
        published=datetime(2015, 3, 17, tzinfo=UTC),
    )
    idx = StoryIndex()
    idx.place(feats["quake-a1"])
    assert idx.place(later).new


def test_merge_is_respected_by_later_placements(feats):
    idx = StoryIndex()
    a = idx.place(feats["quake-a1"]).story_id
    b = idx.place(feats["quake-b1"]).story_id
    assert a != b
    kept = idx.merge(a, b)
    assert kept == a and idx.resolve(b) == a
    assert idx.story_of("quake-b1") == a
    # a new report of the merged-in event now lands in the merged story
    assert idx.place(feats["quake-b2"]).story_id == a
    # pins replay the merge on a fresh index fed the same articles
    replay = StoryIndex.from_state(idx.state())
    assert replay.members(b) == replay.members(a)


def test_split_is_respected_by_later_placements(feats):
    idx = StoryIndex(StoryConfig(threshold=0.05))  # a permissive index that lumps everything
    for i in ["quake-a1", "quake-b1", "quake-a2"]:
        idx.place(feats[i])
    sid = idx.story_of("quake-a1")
    assert idx.story_of("quake-b1") == sid
    new = idx.split(sid, [feats["quake-b1"]])
    assert new != sid and idx.story_of("quake-b1") == new
    assert idx.members(sid) == ["quake-a1", "quake-a2"]
    # the split-out story now attracts its own event's next report
    assert idx.place(feats["quake-b2"]).story_id == new
    with pytest.raises(ValueError):
        idx.split(sid, [feats["quake-b1"]])  # no longer in that story


def test_pin_sends_an_unplaced_article_to_its_story(feats):
    idx = StoryIndex()
    a = idx.place(feats["quake-a1"]).story_id
    idx.pin("trial-1", a)
    got = idx.place(feats["trial-1"])
    assert got.story_id == a and "pinned" in got.reasons
    assert idx.place(feats["trial-1"]).reasons == ("already placed",)  # placing twice is a no-op


def test_state_round_trip_continues_identically(feats, tmp_path):
    first, rest = ORDER[:3], ORDER[3:]
    full = StoryIndex()
    full.place_many(feats[i] for i in ORDER)
    part = StoryIndex()
    part.place_many(feats[i] for i in first)
    part.save(tmp_path / "stories.npz")
    resumed = StoryIndex.load(tmp_path / "stories.npz")
    resumed.place_many(feats[i] for i in rest)
    assert resumed.stories() == full.stories()



def test_a_save_holds_one_array_at_a_time_not_the_whole_state():
    """``write_state`` builds each array only when it writes it, so a save's memory is
    the largest array, not the whole state twice over (arrays, then the archive), which
    at 1,000,000 articles would be gigabytes on top of the index. The archive it writes
    is what ``np.load`` reads back, stream written or not."""
    import io
    import tracemalloc

    from newsdesk.stories import write_state

    rng = np.random.default_rng(3)
    vocab = [f"t{i}" for i in range(4000)]
    idx = StoryIndex(StoryConfig(profile_terms=200), dim=16, vectors="numpy")
    for i in range(600):  # random vectors and words: mostly one-article stories
        v = rng.standard_normal(16).astype(np.float32)
        words = rng.choice(vocab, size=150, replace=False)
        idx.place(ArticleFeatures(id=f"a{i}", embedding=v / np.linalg.norm(v),
                                  terms={str(w): 1.0 + (k % 3) for k, w in enumerate(words)},
                                  names={str(words[0]): 1.0}))

    class Sink:  # unseekable, keeps nothing: what the store's part writer looks like
        written = 0

        def write(self, b: bytes) -> int:
            Sink.written += len(b)
            return len(b)

        def flush(self) -> None:
            pass

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        write_state(idx, Sink())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert Sink.written > 900_000
    assert peak < 0.8 * Sink.written, (peak, Sink.written)

    buf = io.BytesIO()
    write_state(idx, buf)
    with np.load(io.BytesIO(buf.getvalue()), allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        arrays = {k: z[k] for k in z.files if k != "meta"}
    again = StoryIndex.from_state({"meta": meta, "arrays": arrays})
    assert again.stories() == idx.stories()
    state = idx.state()
    assert sorted(arrays) == sorted(state["arrays"]) and meta == json.loads(json.dumps(state["meta"]))
    for k, a in state["arrays"].items():
        assert np.array_equal(arrays[k], a, equal_nan=True), k


def test_loading_holds_the_index_and_little_beside_it():
    """``read_state`` reads the archive's arrays one at a time and lets the loaded
    profiles be views of them: the memory a load needs beside the index it builds is a
    fraction of the state (it was more than the whole state again: every array read
    first, then every profile copied out of them)."""
    import io
    import tracemalloc

    from newsdesk.stories import read_state, write_state

    rng = np.random.default_rng(3)
    vocab = [f"t{i}" for i in range(4000)]
    idx = StoryIndex(StoryConfig(profile_terms=200), dim=64, vectors="numpy")
    for i in range(1000):
        v = rng.standard_normal(64).astype(np.float32)
        words = rng.choice(vocab, size=150, replace=False)
        idx.place(ArticleFeatures(id=f"a{i}", embedding=v / np.linalg.norm(v),
                                  terms={str(w): 1.0 + (k % 3) for k, w in enumerate(words)},
                                  names={str(words[0]): 1.0}))
    buf = io.BytesIO()
    write_state(idx, buf)
    size = len(buf.getvalue())
    buf.seek(0)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loaded = read_state(buf)
        kept, peak = (m - base for m in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert peak - kept < 0.4 * size, (peak - kept, size)
    assert loaded.stories() == idx.stories()
    more = [ArticleFeatures(id=f"b{i}", embedding=idx.vector_of(f"a{i}"), terms={"t1": 1.0, "t2": 2.0})
            for i in range(0, 1000, 7)]
    idx.place_many(more)  # placing into a loaded index changes its profiles, not the archive's
    loaded.place_many(more)
    assert loaded.stories() == idx.stories()
    assert {k: v for k, v in read_state(io.BytesIO(buf.getvalue())).stories().items()} == {
        sid: [a for a in m if not a.startswith("b")] for sid, m in idx.stories().items()
        if any(not a.startswith("b") for a in m)}

def test_config_rejects_typos_and_bad_values():
    with pytest.raises(ValueError, match="unknown story option"):
        StoryConfig.from_dict({"treshold": 0.5})
    with pytest.raises(ValueError):
        StoryConfig(threshold=1.5)
    assert StoryConfig.from_dict({}) == DEFAULT_CONFIG


def test_hnsw_backend_finds_the_same_neighbours():
    from newsdesk.stories import HNSWIndex, NumpyIndex

    rng = np.random.default_rng(1)
    v = rng.standard_normal((500, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact, approx = NumpyIndex(384, v), HNSWIndex(384)
    approx.add(v)
    q = v[7] + 0.01
    assert exact.search(q, 5)[1][0] == approx.search(q, 5)[1][0] == 7


def _as_version_2(state: dict) -> dict:
    """A version 3 state in the form version 2 wrote it (terms and names profiles in
    arrays of their own, weights in float64), to test reading old stores."""
    meta, arrays = dict(state["meta"]), dict(state["arrays"])
    ids = np.split(arrays.pop("prof_ids"), arrays.pop("prof_end")[:-1])
    w = np.split(arrays.pop("prof_w").astype(np.float64), np.cumsum([len(i) for i in ids])[:-1])
    n_terms = arrays.pop("n_terms").tolist()
    for part, pick in (("terms", lambda a, k: a[:k]), ("names", lambda a, k: a[k:])):
        arrays[f"{part}_ids"] = np.concatenate([pick(i, k) for i, k in zip(ids, n_terms, strict=True)])
        arrays[f"{part}_end"] = np.cumsum([len(pick(i, k)) for i, k in zip(ids, n_terms, strict=True)])
        arrays[f"{part}_w"] = np.concatenate([pick(x, k) for x, k in zip(w, n_terms, strict=True)])
    arrays["story_emb"] = arrays["story_emb"].astype(np.float32)
    meta["version"] = 2
    return {"meta": meta, "arrays": arrays}


def _as_version_1(state: dict) -> dict:
    """A version 3 state in the form version 1 wrote it (story profiles and members as
    JSON, document frequencies as a term -> count object), to test reading old stores."""
    state = _as_version_2(state)
    meta, arrays = dict(state["meta"]), dict(state["arrays"])
    terms = meta.pop("terms")
    ends = {k: [0, *arrays.pop(f"{k}_end").tolist()] for k in ("members", "terms", "names")}
    flat = {"members": arrays.pop("members"), "terms": arrays.pop("terms_ids"),
            "names": arrays.pop("names_ids")}
    weights = {"terms": arrays.pop("terms_w"), "names": arrays.pop("names_w")}
    t_min, t_max = arrays.pop("t_min"), arrays.pop("t_max")
    stories = []
    for i, sid in enumerate(meta.pop("story_ids")):
        lo, hi = ends["members"][i], ends["members"][i + 1]
        story: dict = {"id": sid, "members": flat["members"][lo:hi].tolist(),
                       "t_min": None if np.isnan(t_min[i]) else float(t_min[i]),
                       "t_max": None if np.isnan(t_max[i]) else float(t_max[i])}
        for k in ("terms", "names"):
            lo, hi = ends[k][i], ends[k][i + 1]
            story[k] = {terms[j]: float(w) for j, w in zip(flat[k][lo:hi], weights[k][lo:hi], strict=True)}
        stories.append(story)
    df = arrays.pop("df")
    meta.update(version=1, stories=stories, df={t: int(df[i]) for i, t in enumerate(terms) if df[i] > 0})
    return {"meta": json.loads(json.dumps(meta)), "arrays": arrays}


def test_state_keeps_term_ids_and_reads_versions_1_and_2(feats):
    first, rest = ORDER[:4], ORDER[4:]
    full = StoryIndex()
    full.place_many(feats[i] for i in ORDER)
    part = StoryIndex()
    part.place_many(feats[i] for i in first)
    state = part.state()
    assert state["meta"]["version"] == 3 and "stories" not in state["meta"]  # profiles are arrays
    again = StoryIndex.from_state(state)
    assert again._terms == part._terms  # noqa: SLF001 - the same ids, so the same sums
    for sid, st in part._stories.items():  # noqa: SLF001
        other = again._stories[sid]  # noqa: SLF001
        assert other.members == st.members and (other.t_min, other.t_max) == (st.t_min, st.t_max)
        assert np.array_equal(other.terms.ids, st.terms.ids) and np.array_equal(other.terms.w, st.terms.w)
        assert np.array_equal(other.names.w, st.names.w) and np.array_equal(other.emb_sum, st.emb_sum)
    old = StoryIndex.from_state(_as_version_1(state))
    two = StoryIndex.from_state(_as_version_2(state))
    for sid, st in part._stories.items():  # noqa: SLF001
        for earlier in (old, two):
            for attr in ("terms", "names"):
                assert (earlier._profile_terms(getattr(earlier._stories[sid], attr))  # noqa: SLF001
                        == part._profile_terms(getattr(st, attr)))  # noqa: SLF001
    again.place_many(feats[i] for i in rest)
    old.place_many(feats[i] for i in rest)
    two.place_many(feats[i] for i in rest)
    assert again.stories() == old.stories() == two.stories() == full.stories()
    with pytest.raises(ValueError, match="version 4"):
        StoryIndex.from_state({"meta": {**state["meta"], "version": 4}, "arrays": state["arrays"]})
    # a damaged version 3 state is an error saying what does not fit, not stories cut short
    sid = state["meta"]["story_ids"][0]
    wrong = {**state["arrays"], "n_terms": state["arrays"]["n_terms"] + 10_000}
    with pytest.raises(ValueError, match=f"story {sid} has .* terms in a profile of"):
        StoryIndex.from_state({"meta": state["meta"], "arrays": wrong})
    short = {**state["arrays"], "n_terms": state["arrays"]["n_terms"][:-1]}
    with pytest.raises(ValueError, match="term counts"):
        StoryIndex.from_state({"meta": state["meta"], "arrays": short})
    missing = {k: v for k, v in state["arrays"].items() if k != "prof_ids"}
    with pytest.raises(KeyError, match="prof_ids"):
        StoryIndex.from_state({"meta": state["meta"], "arrays": missing})


def test_auto_switches_to_hnsw_and_round_trips(tmp_path):
    from newsdesk.stories import HNSWIndex

    rng = np.random.default_rng(2)
    centres = rng.standard_normal((8, 384)).astype(np.float32)
    fs = []
    for i in range(120):
        v = centres[i % 8] + 0.3 * rng.standard_normal(384).astype(np.float32)
        fs.append(ArticleFeatures(id=f"a{i}", embedding=v / np.linalg.norm(v), terms={f"t{i % 8}": 1.0}))
    idx = StoryIndex(StoryConfig(hnsw_above=50))
    idx.place_many(fs[:100])
    assert isinstance(idx._vectors, HNSWIndex)
    assert idx.n_stories == 8
    idx.save(tmp_path / "s.npz")
    again = StoryIndex.load(tmp_path / "s.npz")
    assert isinstance(again._vectors, HNSWIndex)
    a, b = idx.place_many(fs[100:]), again.place_many(fs[100:])
    assert [x.story_id for x in a] == [x.story_id for x in b]
    assert all(not x.new for x in a)


def _synthetic(
    prefix: str, axis: int, words: list[str], n: int, rng: np.random.Generator
) -> list[ArticleFeatures]:
    out = []
    for i in range(n):
        v = np.zeros(384, dtype=np.float32)
        v[axis] = 1.0
        v += 0.05 * rng.standard_normal(384).astype(np.float32)
        v /= np.linalg.norm(v)
        terms = {w: 1.0 for w in words}
        out.append(ArticleFeatures(id=f"{prefix}{i}", embedding=v, terms=terms, names=terms))
    return out


def test_refine_splits_a_story_that_grew_over_two_events():
    rng = np.random.default_rng(3)
    a = _synthetic("a", 0, ["klitschko", "rahman", "mannheim"], 4, rng)
    b = _synthetic("b", 1, ["klitschko", "thompson", "bern"], 4, rng)
    idx = StoryIndex()
    for f in a + b:  # one early bridging article glued both events together
        idx.pin(f.id, "st-glued")
    idx.place_many(a + b)
    assert len(idx.members("st-glued")) == 8 and idx.split_due("st-glued")
    feats = {f.id: f for f in a + b}
    new = idx.refine("st-glued", feats)
    assert new is not None
    assert sorted(idx.members("st-glued")) == [f.id for f in a]
    assert sorted(idx.members(new)) == [f.id for f in b]
    assert new == story_id_for("b0")


def test_refine_keeps_one_event_and_leaves_user_corrections_alone():
    rng = np.random.default_rng(4)
    a = _synthetic("a", 0, ["klitschko", "rahman", "mannheim"], 8, rng)
    idx = StoryIndex()
    idx.place_many(a, features={f.id: f for f in a})
    (sid,) = idx.stories()
    assert idx.refine(sid, {f.id: f for f in a}) is None
    assert len(idx.members(sid)) == 8
    b = _synthetic("b", 1, ["thompson", "bern"], 4, rng)
    other = idx.place_many(b)[0].story_id
    kept = idx.merge(sid, other)  # a user said these are one story
    idx2 = StoryIndex.from_state(idx.state())
    for index in (idx, idx2):
        assert not index.split_due(kept)
        assert index.refine(kept, {f.id: f for f in a + b}) is None


def test_hnsw_stores_vectors_in_8_bits_without_losing_them():
    from newsdesk.stories import HNSWIndex

    rng = np.random.default_rng(3)
    v = rng.standard_normal((3000, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for rows in (v, v[:200]):  # ranges learnt from the rows / the unit-vector fallback
        idx = HNSWIndex(384)
        idx.add(rows)
        back = idx.vector(42)
        assert back.dtype == np.float32 and float(back @ rows[42]) > 0.995
        assert idx.search(rows[42], 3)[1][0] == 42
        again = HNSWIndex.from_bytes(idx.to_bytes())
        assert np.allclose(again.vector(42), back)
        assert len(idx.to_bytes()) < rows.nbytes / 2  # one byte per dimension, not four


def test_a_year_in_the_text_weighs_more_than_a_name():
    v = np.ones(384, dtype=np.float32)
    f = features_from_text("a", "The fire at Waitrose in 2008 was put out.", v)
    assert f.names["2008"] == pytest.approx(4 * f.names["waitrose"])
    # twin events that differ only in the year score lower than the same event
    same = features_from_text("b", "The fire at Waitrose in 2008 was put out.", v)
    twin = features_from_text("c", "The fire at Waitrose in 2013 was put out.", v)
    idx = StoryIndex()
    assert idx.pair_score(f, same) - idx.pair_score(f, twin) > 0.3


def _reference_cosine(idx: StoryIndex, a: dict[str, float], b: dict[str, float]) -> float:
    """The lexical cosine written out term by term, as the index defines it."""
    va = {t: w * idx._idf(t) for t, w in a.items()}  # noqa: SLF001 - the definition under test
    vb = {t: w * idx._idf(t) for t, w in b.items()}  # noqa: SLF001
    na = sum(v * v for v in va.values()) ** 0.5
    nb = sum(v * v for v in vb.values()) ** 0.5
    if na == 0 or nb == 0:
        return 0.0
    return sum(v * vb.get(t, 0.0) for t, v in va.items()) / (na * nb)


@pytest.mark.parametrize("profile_terms", [10, 100_000])
def test_profile_arrays_follow_every_change_of_a_story(profile_terms: int):
    """Story profiles are arrays of term ids and weights; after places, merges, splits,
    prunes and a state round trip they must score as the term -> weight mapping they
    stand for, and, when nothing is pruned, be the sum of their members' terms."""
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(3000)]  # more terms than the first df array holds
    config = StoryConfig(profile_terms=profile_terms, threshold=0.3)  # 10: prunes happen
    idx = StoryIndex(config)
    feats: list[ArticleFeatures] = []
    for i in range(80):
        v = rng.standard_normal(384).astype(np.float32)
        v[i % 4] += 12.0  # four groups of articles, so stories grow
        v /= np.linalg.norm(v)
        pool = vocab[:40] if i % 2 else vocab  # shared words, and over 1,024 terms in all
        words = rng.choice(pool, size=min(len(pool), int(rng.integers(3, 90))), replace=False)
        terms = {str(w): float(rng.integers(1, 4)) for w in words}
        names = {str(w): 1.0 for w in words[:3]}
        feats.append(ArticleFeatures(id=f"a{i}", embedding=v, terms=terms, names=names))
    by_id = {f.id: f for f in feats}

    def check(index: StoryIndex) -> None:
        probe = feats[int(rng.integers(len(feats)))]
        for sid, st in index._stories.items():  # noqa: SLF001 - the arrays against what they mean
            for attr, q in (("terms", probe.terms), ("names", probe.names)):
                prof = getattr(st, attr)
                assert np.all(np.diff(prof.ids) > 0)  # sorted, distinct
                mapping = index._profile_terms(prof)  # noqa: SLF001
                got = index._cosine(index._tfidf(index._arrays(q)),  # noqa: SLF001
                                    index._tfidf((prof.ids, prof.w)))  # noqa: SLF001
                assert got == pytest.approx(_reference_cosine(index, dict(q), mapping), abs=1e-12)
                if profile_terms > 1000:
                    total: dict[str, float] = {}
                    for m in index.members(sid):
                        for t, w in getattr(by_id[m], attr).items():
                            total[t] = total.get(t, 0.0) + w
                    assert mapping == pytest.approx(total, abs=1e-9)

    for k, f in enumerate(feats):
        idx.place(f)
        if k % 10 == 9:
            check(idx)
    sids = sorted(idx.stories(), key=lambda s: -len(idx.members(s)))
    assert len(sids) >= 3
    check(idx)
    idx.merge(sids[0], sids[1])
    check(idx)
    moved = idx.members(sids[0])[:2]
    new = idx.split(sids[0], [f for f in feats if f.id in moved])
    check(idx)
    assert sorted(idx.members(new)) == sorted(moved)
    again = StoryIndex.from_state(idx.state())
    check(again)
    a, b = feats[0], feats[1]
    ref = (config.w_centroid + config.w_member) * float(a.embedding @ b.embedding) \
        + config.w_lexical * _reference_cosine(idx, dict(a.terms), dict(b.terms)) \
        + config.w_names * _reference_cosine(idx, dict(a.names), dict(b.names))
    assert idx.pair_score(a, b) == pytest.approx(ref, abs=1e-9)


def test_profile_weights_add_and_cancel_as_a_term_dict_does():
    """A profile's weights are bit for bit what adding and taking away the same
    term -> weight maps in a dict gives when each sum is rounded to float32 (the
    profile's dtype); terms whose weight falls to ~0 drop out."""
    rng = np.random.default_rng(3)
    idx = StoryIndex(StoryConfig())
    prof = idx._profile({})  # noqa: SLF001
    ref: dict[str, float] = {}
    added: list[dict[str, float]] = []
    for step in range(300):
        if added and rng.random() < 0.4:
            src, sign = added.pop(int(rng.integers(len(added)))), -1.0  # take an article away
        else:
            words = rng.choice(200, size=int(rng.integers(1, 40)), replace=False)
            src, sign = {f"t{w}": float(rng.random() * 3) for w in words}, 1.0
            added.append(src)
        prof.add(*idx._arrays(src), sign)  # noqa: SLF001
        for t, w in src.items():
            v = ref.get(t, 0.0) + sign * w
            if v > 1e-3:
                ref[t] = float(np.float32(v))
            else:
                ref.pop(t, None)
        assert idx._profile_terms(prof) == ref, step  # noqa: SLF001 - exact equality
        assert prof.w.dtype == np.float32
    assert len(ref) < 200  # some terms did cancel out


def test_a_pruned_profile_keeps_its_heaviest_terms_ties_broken_by_the_term():
    """A profile over twice ``profile_terms`` long keeps the ``profile_terms`` terms of
    largest tf-idf weight; where equal weights straddle the cut, the terms that sort
    first. Checked against a plain sort of every term, with many ties."""
    import math

    from newsdesk.stories import _Profile, _Story

    rng = np.random.default_rng(11)
    idx = StoryIndex(StoryConfig(profile_terms=10))
    vocab = [f"t{i:04d}" for i in range(500)]
    rng.shuffle(vocab)
    idx._term_ids(vocab)  # noqa: SLF001 - ids in shuffled order, so id order is not term order
    idx._dfa[:500] = rng.integers(0, 4, 500)  # noqa: SLF001 - few distinct idf values: ties
    idx._n_docs = 40  # noqa: SLF001
    for trial in range(300):
        n = int(rng.integers(21, 120))
        ids = np.sort(rng.choice(500, n, replace=False)).astype(np.int32)
        weights = (rng.choice([1.0, 2.0, 3.0], n) if trial % 2 else rng.random(n)).astype(np.float32)
        st = _Story("s")
        st.set_profiles(_Profile(ids, weights), _Profile(ids[:3], weights[:3]))
        idx._prune(st)  # noqa: SLF001

        def idf(i: int) -> float:
            return math.log((idx._n_docs + 1) / (idx._dfa[i] + 1)) + 1.0  # noqa: SLF001

        ref = sorted(zip(ids.tolist(), weights.tolist(), strict=True),
                     key=lambda x: (-x[1] * idf(x[0]), idx._terms[x[0]]))[:10]  # noqa: SLF001
        assert st.terms.ids.tolist() == sorted(i for i, _ in ref), trial
        assert st.terms.w.tolist() == [w for _, w in sorted(ref)], trial
        assert st.names.ids.tolist() == ids[:3].tolist()  # under the limit: left alone


def test_new_terms_get_one_id_each_even_when_repeated():
    idx = StoryIndex(StoryConfig())
    first = idx._term_ids(["war", "peace", "war"]).tolist()  # noqa: SLF001
    assert first[0] == first[2] != first[1]
    assert idx._term_ids(["peace", "truce", "war"]).tolist() == [first[1], first[1] + 1, first[0]]  # noqa: SLF001


def test_with_embedding_is_features_from_text_with_that_embedding():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(384) * 3, rng.standard_normal(384) * 2
    text = "Rescuers in Amatrice searched the rubble on Wednesday. 247 people died, officials said."
    first = features_from_text("x", text, a, title="Quake in Italy", source="A")
    again = with_embedding(first, b)
    direct = features_from_text("x", text, b, title="Quake in Italy", source="A")
    assert np.array_equal(again.embedding, direct.embedding) and again.embedding.dtype == np.float32
    assert again.terms == direct.terms and again.names == direct.names and again.title == direct.title
    with pytest.raises(ValueError, match="non-finite"):
        with_embedding(first, np.full(384, np.nan))


def test_a_batch_searched_at_once_finds_what_one_at_a_time_search_finds():
    from newsdesk.stories import NumpyIndex

    rng = np.random.default_rng(3)
    v = rng.standard_normal((700, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    index = NumpyIndex(384, v[:500])
    queries = v[500:540] + 0.05 * rng.standard_normal((40, 384)).astype(np.float32)
    known = index.similarities(queries)  # against the 500 rows held before the batch
    assert known.shape == (40, 500)
    index.add(v[500:700])  # the batch's own rows arrive while it is placed
    for q, row in zip(queries, known, strict=True):
        sims, rows = index.search(q, 20)
        sims_known, rows_known = index.search(q, 20, known=row)
        assert rows_known.tolist() == rows.tolist()
        assert np.allclose(sims_known, sims, atol=1e-5)


def test_placing_with_a_presearch_gives_the_same_stories():
    # 40 events of 8 articles each: each event a direction and a few words of its own, its
    # articles scattered around them and arriving together (found by the rows a chunk adds)
    # or apart (found by the presearch); placed in chunks with a presearch and without
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((40, 384)).astype(np.float32)
    words = [f"w{i}" for i in range(400)]
    feats = []
    for k in range(320):
        e = k // 8 if k < 160 else k % 20 + 20
        vec = centres[e] + 0.9 * rng.standard_normal(384).astype(np.float32)
        text = " ".join(rng.choice(words[e * 10:e * 10 + 10], 12).tolist() + rng.choice(words, 6).tolist())
        feats.append(features_from_text(f"a{k:03d}", text, vec,
                                        published=datetime(2020, 1, 1 + e % 28, tzinfo=UTC)))
    plain, batched = StoryIndex(vectors="numpy"), StoryIndex(vectors="numpy")
    for f in feats:
        plain.place(f)
    for start in range(0, len(feats), 64):
        chunk = feats[start:start + 64]
        batched.presearch([f.id for f in chunk], np.stack([f.embedding for f in chunk]))
        assert len(batched._presearched) == (len(chunk) if start else 0)  # nothing held before the first
        for f in chunk:
            batched.place(f)
    batched.presearch([], np.zeros((0, 384), dtype=np.float32))
    assert not batched._presearched
    assert 40 <= plain.n_stories < 320  # events grouped, not everything in one or each alone
    assert [batched.story_of(f.id) for f in feats] == [plain.story_of(f.id) for f in feats]


def test_static_embedder_keeps_events_apart_and_folds_the_seeds(tmp_path, monkeypatch):
    """The opt-in static model (NEWSDESK_EMBEDDER=static), through the whole ingest: the
    two seed reports make one story, the account's sentences keep the fp32 transformer,
    and on the texts above the same events cluster and the twin earthquakes stay apart."""
    from click.testing import CliRunner

    import newsdesk
    from newsdesk import api, storybook
    from newsdesk.cli import main
    from newsdesk.embeddings import Embedder, component_of, embedding_text

    emb = Embedder(backend="static")
    ids = list(TEXTS)
    vecs = emb.encode([embedding_text(TEXTS[i][0], TEXTS[i][1]) for i in ids])
    static_feats = {i: features_from_text(i, TEXTS[i][1], v, title=TEXTS[i][0], published=TEXTS[i][2])
                    for i, v in zip(ids, vecs, strict=True)}
    test_same_event_clusters_and_similar_events_stay_apart(static_feats)

    # the CLI's --embedder, in this process: it sets NEWSDESK_EMBEDDER (restored after)
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "onnx-int8")
    db = str(tmp_path / "static.db")
    result = CliRunner().invoke(main, ["--db", db, "--embedder", "static", "ingest", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    store = newsdesk.open_store(db)
    rows = list(newsdesk.export_articles(store))
    assert len(rows) == 2 and len({r["story"] for r in rows}) == 1
    with store.engine.connect() as conn:
        labels = {c for (c,) in conn.exec_driver_sql("SELECT DISTINCT component FROM embeddings")}
    assert labels == {component_of("static")}
    assert storybook.sentence_embedder().backend == "onnx"
    result = CliRunner().invoke(main, ["--db", db, "--embedder", "bert", "articles"])
    assert result.exit_code == 2 and "bert" in result.output
    # unset, a store's own kind is followed: more articles need no flag
    monkeypatch.delenv("NEWSDESK_EMBEDDER")
    (tmp_path / "more.jsonl").write_text(json.dumps({
        "id": "more-1", "title": "Harbour reopens", "source": "example.org",
        "text": "The harbour reopened on Monday after repairs to the sea wall, officials said. " * 3}) + "\n")
    result = CliRunner().invoke(main, ["--db", db, "ingest", str(tmp_path / "more.jsonl")])
    assert result.exit_code == 0, result.output
    store = newsdesk.open_store(db)
    assert set(store.get_embeddings(["more-1"])) == {"more-1"} and store.vector_space() == "static"
    # and a search query is embedded like the store's vectors, even when the variable
    # names the transformer (compared with static vectors, its vector would be noise)
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "onnx-int8")
    hits = api.search(store, "Putin thanks North Korean troops", mode="semantic", limit=3)["items"]
    assert hits and hits[0]["id"] != "more-1" and hits[-1]["id"] == "more-1"
    assert hits[0]["score"] > hits[-1]["score"] + 0.2


def test_the_pair_matrix_of_a_recut_is_every_pair_score(feats):
    """The re-cut scores its members' pairs with matrix products; each entry is the
    pair's ``pair_score`` (articles without dates, without names, and an empty one)."""
    idx = StoryIndex()
    idx.place_many(feats[i] for i in ORDER)
    fs = [feats[i] for i in ORDER]
    undated = features_from_text("undated", TEXTS["quake-a1"][1], fs[0].embedding)
    no_names = features_from_text("no-names", "it was said that the thing had been done again",
                                  fs[1].embedding, published=datetime(2014, 5, 1, tzinfo=UTC))
    empty = features_from_text("empty", "", fs[2].embedding, published=datetime(2013, 1, 1, tzinfo=UTC))
    a2 = feats["quake-a2"]
    late = features_from_text("late", TEXTS["quake-a2"][1], a2.embedding, title=TEXTS["quake-a2"][0],
                              published=datetime(2015, 3, 17, tzinfo=UTC))
    fs += [undated, no_names, empty, late]
    got = idx._pair_matrix(fs)
    want = np.array([[1.0 if x == y else idx.pair_score(a, b) for y, b in enumerate(fs)]
                     for x, a in enumerate(fs)])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got.shape == (len(fs), len(fs))
    # the time penalty is in it: quake-a2's text a year later scores lower with quake-a1
    a1, a2_row, late_row = ORDER.index("quake-a1"), ORDER.index("quake-a2"), len(fs) - 1
    assert got[a1, late_row] < got[a1, a2_row] - 0.3


def test_a_candidates_cosines_at_once_are_each_cosine(feats):
    """Scoring weighs every candidate story's profile in one pass; each cosine equals the
    one-by-one ``_cosine`` of the article's and the story's tf-idf vectors (an empty
    profile and an article without names included)."""
    from newsdesk.stories import _Profile

    idx = StoryIndex()
    idx.place_many(feats[i] for i in ORDER)
    profiles = [st.terms for st in idx._stories.values()] + [st.names for st in idx._stories.values()]
    profiles.append(_Profile())
    no_names = features_from_text("no-names", "it was said that the thing had been done again",
                                  feats[ORDER[0]].embedding)
    for f in [feats[i] for i in ORDER] + [no_names]:
        for q in idx._article_vecs(f):
            got = idx._cosines(q, profiles)
            want = [idx._cosine(q, idx._tfidf((p.ids, p.w))) for p in profiles]
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
            assert got[-1] == 0.0
    assert idx._cosines(idx._article_vecs(no_names)[1], profiles).tolist() == [0.0] * len(profiles)
    # the candidates' cosines are not all zero: the check above compares something
    assert max(idx._cosines(idx._article_vecs(feats[ORDER[0]])[0], profiles)) > 0.3


def test_a_story_record_is_compact_and_its_centroid_stays_exact():
    """A story keeps its summed vector in float16 (a one-article story none: its vector
    is the article's, in the vector index) and its profile weights in float32 (the story
    record is most of the index's memory at scale); the centroid a story scores with is
    still the members' mean direction to within 1e-3 of cosine, after hundreds of
    additions, a split and a merge."""
    import sys

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        a, b = a.astype(np.float64), b.astype(np.float64)
        return float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b))

    rng = np.random.default_rng(11)
    base = rng.standard_normal(384)
    feats = []
    for i in range(400):  # one event: a shared direction plus each article's own part
        v = (base + 0.8 * rng.standard_normal(384)).astype(np.float32)
        feats.append(ArticleFeatures(id=f"a{i}", embedding=v / np.linalg.norm(v),
                                     terms={f"w{(i * 7 + k) % 900}": 1.0 for k in range(250)},
                                     names={f"n{(i + k) % 200}": 1.0 for k in range(64)}))
    idx = StoryIndex(StoryConfig(split_threshold=0.0), vectors="numpy")
    idx.place_many(feats)
    stories = idx.stories()
    assert len(stories) == 1
    sid = next(iter(stories))
    st = idx._stories[sid]  # noqa: SLF001 - the record itself
    assert st.emb_sum is not None and st.emb_sum.dtype == np.float16 and st.terms.w.dtype == np.float32
    exact = np.sum([f.embedding.astype(np.float64) for f in feats], axis=0)
    assert cos(exact, idx._sum_of(st)) > 1 - 1e-3  # noqa: SLF001
    moved = idx.split(sid, feats[300:])
    rest = np.sum([f.embedding.astype(np.float64) for f in feats[:300]], axis=0)
    assert cos(rest, idx._sum_of(idx._stories[sid])) > 1 - 1e-3  # noqa: SLF001
    assert cos(exact - rest, idx._sum_of(idx._stories[moved])) > 1 - 1e-3  # noqa: SLF001
    idx.merge(sid, moved)
    assert cos(exact, idx._sum_of(idx._stories[sid])) > 1 - 1e-3  # noqa: SLF001
    lone = idx.split(sid, feats[5:6])  # a story of one article scores with that article's vector
    assert idx._stories[lone].emb_sum is None  # noqa: SLF001
    assert idx._stories[lone].terms.w.dtype == np.float16  # noqa: SLF001 - and its own weights
    assert np.array_equal(idx._sum_of(idx._stories[lone]), feats[5].embedding)  # noqa: SLF001
    # a one-article story of 250 terms and 64 names: no summed vector, and its arrays hold
    # 6 bytes a profile entry (a float32 sum of 384 and 12 bytes an entry: 5,864 bytes)
    # (profile_terms=400 keeps all 250; the owning arrays are measured, not the views)
    one = StoryIndex(StoryConfig(profile_terms=400), vectors="numpy")
    one.place(feats[0])
    rec = next(iter(one._stories.values()))  # noqa: SLF001
    assert rec.ids.base is None and rec.w.base is None  # they own their data
    size = sys.getsizeof(rec.ids) + sys.getsizeof(rec.w)
    assert len(rec.terms) == 250 and len(rec.names) == 64 and rec.emb_sum is None
    assert rec.terms.w.dtype == np.float16 and size < 2_400, size
    assert one._profile_terms(rec.terms) == {t: 1.0 for t in feats[0].terms}  # noqa: SLF001
    again = StoryIndex.from_state(one.state())  # and a one-article story reloads without one
    assert again._stories[rec.id].emb_sum is None  # noqa: SLF001
    assert again.config.profile_terms == 400  # a saved index keeps its settings, not today's default
    assert np.array_equal(again._sum_of(again._stories[rec.id]), feats[0].embedding)  # noqa: SLF001


def test_a_long_articles_story_keeps_its_heaviest_terms_by_default():
    """With the default ``profile_terms`` (100), a story whose profile passes twice that is
    cut to its 100 heaviest terms by tf-idf (the story record is most of the index's
    memory at scale); a profile under the limit, here the names, is kept whole."""
    rng = np.random.default_rng(5)
    limit = DEFAULT_CONFIG.profile_terms
    assert limit == 100
    idx = StoryIndex(vectors="numpy")
    for i in range(30):  # background articles: common words get a high document frequency
        v = rng.standard_normal(384).astype(np.float32)
        own = {f"bg{i}x{k}": 1.0 for k in range(5)}
        idx.place(ArticleFeatures(id=f"bg{i}", embedding=v / np.linalg.norm(v),
                                  terms={f"common{k}": 1.0 for k in range(60)} | own, names={}))
    v = rng.standard_normal(384).astype(np.float32)
    terms = {f"common{k}": float(1 + k % 3) for k in range(60)}
    terms |= {f"own{k}": float(1 + (k % 4 == 0)) for k in range(240)}  # 300 terms in all
    names = {f"name{k}": 1.0 for k in range(150)}
    long = ArticleFeatures(id="long", embedding=v / np.linalg.norm(v), terms=terms, names=names)
    got = idx.place(long)
    assert got.new
    st = idx._stories[got.story_id]  # noqa: SLF001 - the record itself
    kept = idx._profile_terms(st.terms)  # noqa: SLF001
    assert len(kept) == limit and len(st.names) == 150
    score = {t: w * idx._idf(t) for t, w in terms.items()}  # noqa: SLF001 - df as at the cut
    heaviest = sorted(score, key=lambda t: (-score[t], t))[:limit]
    assert set(kept) == set(heaviest)
    assert all(kept[t] == terms[t] for t in kept)  # weights are the article's own
    assert not any(t.startswith("common") for t in kept)  # the frequent words went first
