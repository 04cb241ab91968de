"""The two file formats of offline embedding (see `offline.py`), with no Django in sight, so that
`tools/embed_offline.py` runs on a GPU machine that has only numpy and sentence-transformers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
from pathlib import Path

import numpy as np

TEXTS_FORMAT = "paperboard-texts/1"
WORD_MARGIN = 32


class OfflineError(ValueError):
    """A texts or vectors file that cannot be used (wrong format, model or truncation)."""


def open_text(path: Path, mode: str):
    """Open `path` as text, (de)compressing by its suffix (.gz, .xz)."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    if path.suffix == ".xz":
        return lzma.open(path, mode + "t", encoding="utf-8", preset=9 if "w" in mode else None)
    return open(path, mode, encoding="utf-8")


def cut(text: str, max_tokens: int) -> str:
    words = text.split(" ")
    limit = max_tokens + WORD_MARGIN
    return text if len(words) <= limit else " ".join(words[:limit])


def check_of(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def read_texts(path: Path) -> tuple[dict, list[int], list[str]]:
    """The header, ids and texts of a texts file (used by tools/embed_offline.py and the tests)."""
    with open_text(path, "r") as fh:
        try:
            header = json.loads(fh.readline())
        except json.JSONDecodeError as exc:
            raise OfflineError(f"{path}: not a texts file ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != TEXTS_FORMAT:
            raise OfflineError(f"{path}: not a {TEXTS_FORMAT} file")
        ids, texts = [], []
        for line in fh:
            item = json.loads(line)
            ids.append(int(item["id"]))
            texts.append(item["text"])
    return header, ids, texts


def quantise_int8(vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8: about 1/4 of float32's bytes at a cosine of ~0.99996 to the original."""
    vecs = np.asarray(vecs, dtype=np.float32)
    scale = np.abs(vecs).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(vecs / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def dequantise(data) -> np.ndarray:
    raw = data["vectors"]
    if raw.dtype == np.int8:
        vecs = raw.astype(np.float32) * np.asarray(data["scale"], dtype=np.float32)[:, None]
    else:
        vecs = raw.astype(np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vecs / norms


def save_vectors_file(path, ids, checks, vecs, *, model, max_tokens, dtype="float16") -> None:
    arrays = {
        "ids": np.asarray(ids, dtype=np.int64),
        "check": np.asarray(checks, dtype=np.uint64),
        "model": np.array(model),
        "max_tokens": np.array(int(max_tokens)),
    }
    if dtype == "int8":
        arrays["vectors"], arrays["scale"] = quantise_int8(vecs)
    else:
        arrays["vectors"] = np.asarray(vecs, dtype=np.dtype(dtype))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    Path(path).write_bytes(buf.getvalue())
