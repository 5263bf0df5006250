"""A recurrent sequence encoder: a GRU over log-mel frames, trained on the training clips.

Two objectives:

- ``"classes"`` (default), supervised: the GRU learns to tell apart the classes of the
  training clips. :func:`mmgraph.pipeline.encode_dataset` passes the classes that the task's
  training information defines (:meth:`mmgraph.data.TrainView.sample_classes`: the connected
  components of the training links, samples of one training label counting as connected), so
  the encoder sees what every model sees, never a held-out clip or label.
- ``"apc"``, self-supervised: autoregressive predictive coding (Chung et al., 2019). Reading the
  frames of a clip in order, the GRU state at frame ``t`` predicts frame ``t + shift`` (L1
  loss); to do so it must carry what the clip has said so far. Needs no classes.

A clip's features are the mean and the last of its GRU states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from mmgraph.checks import check_choice
from mmgraph.encoders.audio import LogMelEncoder
from mmgraph.encoders.base import check_float, check_int
from mmgraph.errors import DataError, SavedFileError

_GRU_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
OBJECTIVES: tuple[str, ...] = ("classes", "apc")


class GRULogMelEncoder(LogMelEncoder):
    """A one-layer GRU over standardised log-mel frames, trained on the training clips.

    :meth:`fit` computes the per-band mean and deviation of the training clips' frames and
    trains the GRU with a linear head (Adam, ``epochs`` passes over the clips in batches):

    - ``objective="classes"``: the head reads a clip's features ``[mean_t h_t, h_T]`` and
      predicts its class (cross-entropy); clips of class ``-1`` only enter the band statistics;
    - ``objective="apc"``: the head reads each state ``h_t`` and predicts the frame ``shift``
      steps ahead (L1 loss).

    The fitted state is the band statistics and the GRU weights (arrays, so the cache key covers
    them); the head is dropped. A clip's features are ``[mean_t h_t, h_T]``, ``2 * hidden_dim``
    values.

    Args:
        objective: ``"classes"`` (supervised, needs ``classes`` in :meth:`fit`) or ``"apc"``.
        hidden_dim: GRU state size.
        shift: with ``"apc"``, how many frames ahead the state predicts (3 frames: 30 ms at the
            default hop).
        epochs: passes over the training clips.
        lr: Adam learning rate.
        seed: seed of the initial weights and the batch order.
        **kwargs: the log-mel settings of :class:`LogMelEncoder`.
    """

    name: ClassVar[str] = "gru-logmel"
    config_keys: ClassVar[tuple[str, ...]] = (
        "objective", "hidden_dim", "shift", "epochs", "lr", "seed", *LogMelEncoder.config_keys,
    )
    requires_fit: ClassVar[bool] = True
    cache_fit: ClassVar[bool] = True
    train_batch: ClassVar[int] = 32  # clips per training step (``batch_size`` is a runtime setting)

    def __init__(
        self,
        *,
        objective: str = "classes",
        hidden_dim: int = 128,
        shift: int = 3,
        epochs: int = 10,
        lr: float = 2e-3,
        seed: int = 0,
        n_mels: int = 40,
        **kwargs: Any,
    ) -> None:
        super().__init__(n_mels=n_mels, **kwargs)
        owner = type(self).__name__
        self.objective = check_choice(objective, name="objective", owner=owner, choices=OBJECTIVES)
        self.hidden_dim = check_int(hidden_dim, name="hidden_dim", owner=owner)
        self.shift = check_int(shift, name="shift", owner=owner)
        self.epochs = check_int(epochs, name="epochs", owner=owner)
        self.lr = check_float(lr, name="lr", owner=owner)
        self.seed = check_int(seed, name="seed", owner=owner, minimum=0)

    def _dim(self) -> int:
        return 2 * self.hidden_dim

    @property
    def needs_classes(self) -> bool:
        """Whether :meth:`fit` needs the classes of the clips (the ``"classes"`` objective)."""
        return self.objective == "classes"

    def _prepare(self, payload: Any) -> np.ndarray:
        """The clip's log-mel frames, ``(num_frames, n_mels)`` float32 (not yet standardised)."""
        from mmgraph.encoders.audio import read_audio

        return self.log_mel(read_audio(payload, sample_rate=self.sample_rate)).T.astype(np.float32)

    # ----------------------------------------------------------------------- fitted state
    def _is_fitted(self) -> bool:
        return hasattr(self, "state_")

    def _get_state(self) -> dict[str, np.ndarray]:
        return dict(self.state_) if self._is_fitted() else {}

    def _set_state(self, state: Mapping[str, np.ndarray]) -> None:
        expected = {"band_mean", "band_scale", *_GRU_KEYS}
        if set(state) != expected:
            raise SavedFileError(f"A {self.name!r} state holds {sorted(expected)}. Got {sorted(state)} instead.")
        self.state_ = {key: np.asarray(state[key], dtype=np.float32) for key in sorted(expected)}
        self._gru = None

    def _module(self) -> Any:
        """The GRU with the fitted weights (built once)."""
        import torch

        if getattr(self, "_gru", None) is None:
            gru = torch.nn.GRU(self.n_mels, self.hidden_dim, batch_first=True)
            gru.load_state_dict({key: torch.from_numpy(self.state_[key]) for key in _GRU_KEYS})
            self._gru = gru.eval()
        return self._gru

    # ------------------------------------------------------------------------- training
    def fit(
        self, payloads: Sequence[Any], *, classes: Sequence[int] | None = None, progress: bool | None = None
    ) -> GRULogMelEncoder:
        """Learns the band statistics and the GRU from the (training) clips ``payloads``.

        Args:
            payloads: the training clips.
            classes: with ``objective="classes"``, the class of each clip (``-1``: none; such a
                clip only enters the band statistics). Ignored by ``"apc"``.
            progress: show a progress bar while reading the clips.
        """
        import torch

        items = self._as_list(payloads)
        if not items:
            raise DataError(f"{type(self).__name__}.fit needs at least one clip. Got none.")
        targets = self._check_classes(classes, len(items)) if self.needs_classes else None
        frames: list[np.ndarray] = []
        for _, batch in self._batches(items, list(range(len(items))), progress=progress, embed=lambda p: p):
            frames.extend(batch)
        stacked = np.concatenate(frames)
        mean, std = stacked.mean(0), stacked.std(0)
        scale = np.where(std > 1e-6, std, 1.0)
        sequences = [torch.from_numpy((f - mean) / scale) for f in frames]
        trained = range(len(sequences)) if targets is None else np.flatnonzero(targets >= 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            gru = torch.nn.GRU(self.n_mels, self.hidden_dim, batch_first=True)
            if targets is None:
                head = torch.nn.Linear(self.hidden_dim, self.n_mels)
            else:
                head = torch.nn.Linear(2 * self.hidden_dim, int(targets.max()) + 1)
            optimizer = torch.optim.Adam([*gru.parameters(), *head.parameters()], lr=self.lr)
            self.loss_history_ = []  # the mean training loss of each epoch
            # Clips of similar lengths share a batch (little padding); batches come in random order.
            by_length = np.asarray(trained)[np.argsort([len(sequences[i]) for i in trained], kind="stable")]
            batches = [by_length[i : i + self.train_batch] for i in range(0, len(by_length), self.train_batch)]
            for _ in range(self.epochs):
                total, count = 0.0, 0
                for b in torch.randperm(len(batches)).tolist():
                    padded, lengths = _pad([sequences[i] for i in batches[b]])
                    states, _ = gru(padded)
                    if targets is None:
                        loss = self._apc_loss(head, states, padded, lengths)
                    else:
                        logits = head(_pool(states, lengths))
                        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets[batches[b]]))
                    if loss is None:
                        continue
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total, count = total + float(loss.detach()) * len(lengths), count + len(lengths)
                self.loss_history_.append(total / max(count, 1))
        state = {"band_mean": mean, "band_scale": scale}
        state.update({key: value.detach().numpy() for key, value in gru.state_dict().items()})
        self._set_state(state)
        return self

    def _check_classes(self, classes: Sequence[int] | None, num_clips: int) -> np.ndarray:
        owner = type(self).__name__
        if classes is None:
            raise DataError(
                f"{owner} with objective='classes' learns the classes of the training clips; fit got no classes. "
                f"Pass classes= (one int per clip, -1 for none), or use objective='apc', which needs none."
            )
        targets = np.asarray(classes)
        if targets.shape != (num_clips,) or not np.issubdtype(targets.dtype, np.integer) or (targets < -1).any():
            raise DataError(
                f"{owner}.fit needs one class per clip, ints >= -1 ({num_clips} clips). "
                f"Got shape {targets.shape}, dtype {targets.dtype} instead."
            )
        found = np.unique(targets[targets >= 0])
        if len(found) < 2:
            raise DataError(
                f"{owner} with objective='classes' needs clips of at least two classes; got {len(found)} class(es) "
                f"among {num_clips} clips ({int((targets >= 0).sum())} with a class). Where the training links "
                f"and labels define no classes, use objective='apc'."
            )
        return np.searchsorted(found, targets).astype(np.int64) * (targets >= 0) - (targets < 0)

    def _apc_loss(self, head: Any, states: Any, padded: Any, lengths: Any) -> Any:
        """The mean L1 error of predicting each frame ``shift`` ahead; ``None`` if no clip is long enough."""
        import torch

        predicted = head(states[:, : -self.shift])
        target = padded[:, self.shift :]
        # Frame t predicts frame t + shift where both lie inside the clip.
        mask = torch.arange(padded.shape[1] - self.shift)[None] < (lengths - self.shift)[:, None]
        if not mask.any():
            return None
        return (predicted - target).abs().mean(-1)[mask].mean()

    # ------------------------------------------------------------------------- encoding
    def _embed(self, prepared: list[np.ndarray]) -> np.ndarray:
        import torch

        mean, scale = self.state_["band_mean"], self.state_["band_scale"]
        padded, lengths = _pad([torch.from_numpy((f - mean) / scale) for f in prepared])
        with torch.no_grad():
            states, _ = self._module()(padded)
        return _pool(states, lengths).numpy()


def _pool(states: Any, lengths: Any) -> Any:
    """A clip's features from its GRU states ``(b, t, h)``: the mean over its frames and the
    state at its last frame, ``(b, 2 h)``."""
    import torch

    inside = (torch.arange(states.shape[1])[None] < lengths[:, None]).float()[..., None]
    pooled = (states * inside).sum(1) / lengths[:, None]
    last = states[torch.arange(len(lengths)), lengths - 1]
    return torch.cat([pooled, last], dim=1)


def _pad(sequences: list[Any]) -> tuple[Any, Any]:
    """Sequences ``(t_i, d)`` zero-padded at the end to ``(b, max t_i, d)``, and their lengths."""
    import torch

    lengths = torch.tensor([len(s) for s in sequences])
    return torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True), lengths


__all__ = ["GRULogMelEncoder"]
