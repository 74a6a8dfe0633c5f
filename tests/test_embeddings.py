"""Embedding backends: the ONNX graphs exported from the installed weights agree
with sentence-transformers (the reference), give unit vectors, and are deterministic."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from newsdesk import embeddings
from newsdesk.embeddings import (
    BACKENDS,
    Embedder,
    EmbedderError,
    component_of,
    default_backend,
    embedding_text,
    sentence_backend,
    vector_space,
)

TEXTS = [
    "Wladimir Klitschko defended his heavyweight titles in Hamburg on Saturday, "
    "stopping his challenger in the sixth round.",
    "A fire broke out at a Waitrose supermarket in Wellington, Somerset, on Monday night; "
    "nobody was hurt, the fire service said.",
    "The central bank raised its main interest rate by a quarter point to 4.5 per cent.",
    "Indianapolis Colts beat the Kansas City Chiefs 31-17 in the play-off game.",
    "Short.",
    "",  # [CLS] [SEP] only: a real vector on every backend
    "A very long lead that goes on and on " * 60,  # truncated at 96 tokens
    "Ünïcödé, accents — and “quotes”: Zürich, São Paulo, Kraków.",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    # the model is an installed dependency: its absence is a failure, not a skip
    return Embedder(backend="torch").encode(TEXTS)


@pytest.fixture(scope="module")
def onnx_vectors(cache) -> dict[str, np.ndarray]:
    import onnxruntime  # noqa: F401  (in the dev extra: missing is a failure)
    return {b: Embedder(backend=b, cache_dir=cache, threads=1).encode(TEXTS) for b in ("onnx", "onnx-int8")}


@pytest.mark.parametrize("backend,floor", [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_onnx_agrees_with_reference(onnx_vectors, reference, backend, floor):
    cos = np.sum(onnx_vectors[backend] * reference, axis=1)
    assert cos.min() >= floor, cos
    # the texts that carry content: 0.99 even in int8
    assert cos[:4].min() >= 0.99, cos


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_unit_length_and_shape(onnx_vectors, backend):
    v = onnx_vectors[backend]
    assert v.shape == (len(TEXTS), embeddings.DIM) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_same_event_closer_than_other_events(cache, onnx_vectors, backend):
    text = embedding_text("Klitschko keeps his belts", "Klitschko beat the challenger in Hamburg.")
    (w,) = Embedder(backend=backend, cache_dir=cache, threads=1).encode([text])
    v = onnx_vectors[backend]
    assert float(w @ v[0]) > max(float(w @ v[i]) for i in (1, 2, 3)) + 0.2


def test_fp32_deterministic_across_batches_threads_and_loads(cache, onnx_vectors):
    # a new session with two threads, texts in another order and other batch sizes
    emb = Embedder(backend="onnx", cache_dir=cache, threads=2, batch_size=3)
    order = list(reversed(range(len(TEXTS))))
    v = emb.encode([TEXTS[i] for i in order])
    np.testing.assert_allclose(v, onnx_vectors["onnx"][order], atol=2e-6)
    # one text alone gives the vector it gets in a batch
    (one,) = emb.encode([TEXTS[0]])
    np.testing.assert_allclose(one, onnx_vectors["onnx"][0], atol=2e-6)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vector_depends_on_its_text_only(cache, onnx_vectors, backend):
    # each text runs alone: the same bits in any batch, order, thread count or load
    # (int8 scales activations by the range of its input, which is one text only)
    emb = Embedder(backend=backend, cache_dir=cache, threads=2)
    order = list(reversed(range(len(TEXTS))))
    np.testing.assert_array_equal(emb.encode([TEXTS[i] for i in order]), onnx_vectors[backend][order])
    for i in (0, 5, 6):
        (one,) = emb.encode([TEXTS[i]])
        np.testing.assert_array_equal(one, onnx_vectors[backend][i])
    np.testing.assert_array_equal(emb.encode(TEXTS[:3] + TEXTS[:3])[3:], onnx_vectors[backend][:3])


def test_export_is_cached_and_checked(cache, onnx_vectors):
    files = sorted(p.name for p in cache.glob("*.onnx"))
    assert len(files) == 2 and all(embeddings.EXPORT_VERSION in f for f in files)
    assert not [p for p in cache.iterdir() if p.name.startswith(".export-")]  # work folders removed
    # a corrupted cache file is noticed and exported again, to the same bytes
    target = next(cache.glob("*-onnx.onnx"))
    want = json.loads(target.with_suffix(".json").read_text())["sha256"]
    target.write_bytes(b"not a model")
    v = Embedder(backend="onnx", cache_dir=cache, threads=1).encode(TEXTS[:2])
    assert json.loads(target.with_suffix(".json").read_text())["sha256"] == want
    assert embeddings._sha256(target) == want
    np.testing.assert_allclose(v, onnx_vectors["onnx"][:2], atol=2e-6)


def test_backend_from_environment(monkeypatch):
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "onnx-int8")
    assert Embedder().backend == "onnx-int8"
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "ONNX ")
    assert Embedder().backend == "onnx"
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "tensorflow")
    with pytest.raises(ValueError, match="NEWSDESK_EMBEDDER"):
        Embedder()
    monkeypatch.delenv("NEWSDESK_EMBEDDER")
    assert Embedder().backend == embeddings.DEFAULT_BACKEND == "onnx-int8"
    # an account's sentences keep fp32 unless the variable names a backend for both
    assert sentence_backend() == "onnx"
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "torch")
    assert sentence_backend() == default_backend() == "torch"
    # nor on static vectors, which the account's thresholds were not tuned on
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "static")
    assert default_backend() == "static" and sentence_backend() == "onnx"
    assert Embedder().max_tokens == embeddings.STATIC_MAX_TOKENS == 512
    monkeypatch.delenv("NEWSDESK_EMBEDDER")
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="gpu")
    with pytest.raises(ValueError, match="threads"):
        Embedder(threads=0)


def test_components():
    assert set(BACKENDS) == {"torch", "onnx", "onnx-int8", "static"}
    # fp32 ONNX computes the reference's vectors; int8 ones are labelled apart
    assert component_of("onnx") == component_of("torch") != component_of("onnx-int8")
    assert embeddings.COMPONENT == component_of(embeddings.DEFAULT_BACKEND)
    # the token limit is part of the label: vectors of long texts differ with it
    assert embeddings.MAX_TOKENS == 96 and embeddings.SENTENCE_MAX_TOKENS == 128
    assert component_of("onnx-int8", 128) == "embeddings.minilm-l6-v2-int8.v3"  # 7-bit weights (v2: 8)
    assert component_of("onnx-int8") == "embeddings.minilm-l6-v2-int8-t96.v3"
    assert component_of("onnx", 128) == "embeddings.minilm-l6-v2.v1"
    assert Embedder(backend="onnx").component == component_of("onnx", 96)
    assert Embedder(backend="onnx", max_tokens=128).component == component_of("onnx", 128)
    assert component_of("static") == "embeddings.minilm-l6-v2-static-t512.v2"  # v1: English's direction only
    # which vectors can be compared: every transformer label with every other, static apart
    labels = [component_of(b, t) for b in ("torch", "onnx", "onnx-int8") for t in (96, 128)]
    assert {vector_space(label) for label in labels} == {"minilm"}
    assert vector_space(component_of("static")) == "static"


def test_articles_are_cut_at_96_tokens(cache):
    """A long text gives the vector of its first 96 tokens (128 for an account's sentences)."""
    from tokenizers import Tokenizer

    long_text = TEXTS[6]
    tok = Tokenizer.from_file(str(embeddings.default_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    enc = tok.encode(long_text)
    assert len(enc.ids) > 200
    # the text of the first 94 word pieces (index 0 is [CLS]; with [SEP] they make 96)
    cut = long_text[: enc.offsets[94][1]]
    at96 = Embedder(backend="onnx", cache_dir=cache, threads=1)
    at128 = Embedder(backend="onnx", cache_dir=cache, threads=1, max_tokens=128)
    v_long, v_cut = at96.encode([long_text, cut])
    np.testing.assert_allclose(v_long, v_cut, atol=2e-6)
    assert float(np.dot(v_long, at128.encode([long_text])[0])) < 0.9999  # 128 sees more


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(tmp_path / "m"))
    assert embeddings.model_cache_dir() == tmp_path / "m"
    monkeypatch.delenv("NEWSDESK_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert embeddings.model_cache_dir() == tmp_path / "newsdesk" / "models"


def test_wrong_weights_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"something else")
    with pytest.raises(EmbedderError, match="sha256"):
        Embedder(tmp_path, backend="onnx", cache_dir=tmp_path).encode(["x"])
    assert not list(tmp_path.glob("*.onnx"))  # nothing exported from the wrong weights


def test_articles_in_int8_and_account_sentences_in_fp32(monkeypatch):
    from newsdesk import storybook

    monkeypatch.delenv("NEWSDESK_EMBEDDER", raising=False)
    assert storybook.shared_embedder().backend == "onnx-int8"
    assert storybook.shared_embedder().max_tokens == 96
    assert storybook.sentence_embedder().backend == "onnx"
    assert storybook.sentence_embedder().max_tokens == 128
    assert storybook.sentence_embedder() is storybook.sentence_embedder()
    assert storybook.shared_embedder() is storybook.shared_embedder()
    # the variable is read at each call: a process that changes it gets what it names
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "onnx")
    assert storybook.shared_embedder().backend == "onnx"
    assert storybook.sentence_embedder() is storybook.shared_embedder()
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "static")
    assert storybook.shared_embedder().backend == "static"
    assert storybook.sentence_embedder().backend == "onnx"


def _encode_in_child(emb: Embedder, out) -> None:  # runs in a forked process
    out.put(emb.encode(TEXTS[:3]))


def test_forked_child_makes_its_own_pool(cache, onnx_vectors):
    import multiprocessing

    emb = Embedder(backend="onnx", cache_dir=cache, threads=2)
    emb.encode(TEXTS[:3])  # the parent's pool exists before the fork
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_encode_in_child, args=(emb, out))
    child.start()
    try:
        got = out.get(timeout=120)  # the parent's pool has no threads in the child: a hang
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    np.testing.assert_array_equal(got, onnx_vectors["onnx"][:3])


def test_int8_first_use_exports_fp32_once_and_prints_no_advice(tmp_path, caplog, onnx_vectors):
    caplog.set_level(logging.WARNING)
    v = Embedder(backend="onnx-int8", cache_dir=tmp_path, threads=1).encode(TEXTS[:2])
    np.testing.assert_array_equal(v, onnx_vectors["onnx-int8"][:2])
    # int8 is quantised from the cached fp32 graph, which the account then reuses
    assert sorted(p.name.rsplit("-", 1)[-1] for p in tmp_path.glob("*.onnx")) == ["int8.onnx", "onnx.onnx"]
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()]


@pytest.fixture(scope="module")
def static_vectors(cache) -> np.ndarray:
    return Embedder(backend="static", cache_dir=cache).encode(TEXTS)


def test_static_vectors(cache, static_vectors):
    v = static_vectors
    assert v.shape == (len(TEXTS), embeddings.DIM) and v.dtype == np.float32
    norms = np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(np.delete(norms, 5), 1.0, atol=1e-5)
    assert norms[5] == 0.0  # the empty text has no tokens: a zero vector, not NaN
    # the common direction of English text is taken out of every (English) vector
    folder = next(cache.glob("*-static"))
    common = np.load(folder / "common.npy")
    langs = json.loads((folder / "newsdesk.json").read_text())["languages"]
    assert common.shape == (len(langs), embeddings.DIM) and {"en", "de", "es", "ar", "ja"} <= set(langs)
    # (the accented text is py3langid's Luxembourgish, which has no word list: it loses
    # the direction it leans on most)
    assert np.abs(np.delete(v, 7, axis=0) @ common[langs.index("en")]).max() < 1e-5
    assert np.abs(common @ v[7]).min() < 1e-5 < np.abs(common @ v[7])[langs.index("en")]
    # the same event is nearer than other events, by a margin
    text = embedding_text("Klitschko keeps his belts", "Klitschko beat the challenger in Hamburg.")
    (w,) = Embedder(backend="static", cache_dir=cache).encode([text])
    assert float(w @ v[0]) > max(float(w @ v[i]) for i in (1, 2, 3)) + 0.2
    # a vector depends on its text only (to float rounding: model2vec sums a batch's
    # token vectors in one pass): another load, another order, one text alone
    again = Embedder(backend="static", cache_dir=cache)
    order = list(reversed(range(len(TEXTS))))
    np.testing.assert_allclose(again.encode([TEXTS[i] for i in order]), v[order], atol=1e-6)
    np.testing.assert_allclose(again.encode([TEXTS[2]])[0], v[2], atol=1e-6)


# Three unrelated German reports, a second report of the first event, and two unrelated
# Spanish ones (written for this test).
OTHER_LANGUAGES = {
    "de_quake": ("Erdbeben erschüttert die Türkei", "Ein Erdbeben der Stärke 6,8 hat am "
                 "Montagmorgen den Osten der Türkei erschüttert. Mindestens 40 Menschen kamen "
                 "ums Leben, Hunderte wurden verletzt, teilten die Behörden mit."),
    "de_quake_again": ("Schweres Beben im Osten der Türkei", "Bei einem starken Erdbeben im "
                       "Osten der Türkei sind nach Angaben der Behörden mindestens 40 Menschen "
                       "getötet worden. Rettungskräfte suchen in den Trümmern nach Überlebenden."),
    "de_budget": ("Bundestag beschließt Haushalt", "Der Bundestag hat am Freitag den Haushalt für "
                  "das kommende Jahr verabschiedet. Der Finanzminister verteidigte die geplanten "
                  "Ausgaben für Schulen und Straßen gegen die Kritik der Opposition."),
    "de_cup": ("Bayern gewinnt das Pokalfinale", "Der FC Bayern München hat das Pokalfinale in "
               "Berlin mit 3:1 gewonnen. Der Trainer lobte nach dem Spiel die Leistung seiner "
               "jungen Mannschaft."),
    "es_fire": ("Incendio forestal en Valencia", "Un incendio forestal ha quemado más de 2.000 "
                "hectáreas en la provincia de Valencia. Los bomberos trabajan para controlar las "
                "llamas y cientos de vecinos fueron evacuados."),
    "es_pensions": ("El parlamento aprueba la reforma", "El parlamento aprobó el jueves la reforma "
                    "de las pensiones con el apoyo del gobierno. La oposición anunció que recurrirá "
                    "la ley ante el Tribunal Constitucional."),
}


def test_static_vectors_of_other_languages(cache, static_vectors):
    """Each text loses its own language's common direction: with English's alone, German
    reports of unrelated events stayed at cosine 0.71-0.83 (Spanish 0.76), closer than
    any story threshold, and a stream of them collapsed into a few huge stories."""
    v = dict(zip(OTHER_LANGUAGES, Embedder(backend="static", cache_dir=cache).encode(
        [embedding_text(*t) for t in OTHER_LANGUAGES.values()]), strict=True))
    folder = next(cache.glob("*-static"))
    common = np.load(folder / "common.npy")
    langs = json.loads((folder / "newsdesk.json").read_text())["languages"]
    for key, vec in v.items():
        assert abs(float(vec @ common[langs.index(key[:2])])) < 1e-5, key
    unrelated = [("de_quake", "de_budget"), ("de_quake", "de_cup"), ("de_budget", "de_cup"),
                 ("es_fire", "es_pensions")]
    far = max(float(v[a] @ v[b]) for a, b in unrelated)
    assert far < 0.5
    assert float(v["de_quake"] @ v["de_quake_again"]) > far + 0.2


def test_static_model_is_distilled_once_checked_and_deterministic(cache, static_vectors, capsys):
    folders = [p for p in cache.iterdir() if p.name.endswith("-static")]
    assert len(folders) == 1 and embeddings.STATIC_VERSION in folders[0].name
    assert not [p for p in cache.iterdir() if p.name.startswith(".distil-")]  # work folders removed
    meta = json.loads((folders[0] / "newsdesk.json").read_text())
    assert {"model.safetensors", "common.npy", "tokenizer.json"} <= set(meta["sha256"])
    # a damaged file is noticed and the model distilled again, to the same bytes
    (folders[0] / "common.npy").write_bytes(b"damaged")
    v = Embedder(backend="static", cache_dir=cache).encode(TEXTS)
    assert json.loads((folders[0] / "newsdesk.json").read_text()) == meta
    np.testing.assert_array_equal(v, static_vectors)
    # quietly: no library's progress bar on stderr (the CLI draws its own display there)
    assert capsys.readouterr().err == ""


def test_static_folder_without_its_languages_is_not_ready(tmp_path):
    # a hand-edited or truncated newsdesk.json whose checksums still match: without the
    # languages of its directions the model cannot be used, so it is distilled again
    (tmp_path / "common.npy").write_bytes(b"rows")
    meta = {"sha256": {"common.npy": embeddings._sha256(tmp_path / "common.npy")}}
    (tmp_path / "newsdesk.json").write_text(json.dumps(meta))
    assert not embeddings._static_ready(tmp_path)
    (tmp_path / "newsdesk.json").write_text(json.dumps(meta | {"languages": []}))
    assert not embeddings._static_ready(tmp_path)
    (tmp_path / "newsdesk.json").write_text(json.dumps(meta | {"languages": ["de", "en"]}))
    assert embeddings._static_ready(tmp_path)


def test_static_model_in_a_read_only_cache(tmp_path, monkeypatch):
    # a cache that cannot be written: the model is distilled into a temporary folder
    # for this process, and works
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    emb = Embedder(backend="static", cache_dir=blocked / "models")
    v = emb.encode(TEXTS[:2])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
