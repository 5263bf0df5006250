"""Classical baselines, fitted on a training view and scored like every relation model.

Link baselines rank cross-modal candidates; label baselines classify nodes. Each one follows
the model interface of :class:`~mmgraph.models.base.RelationModel`: ``fit(train, validate=...)``
reads a :class:`~mmgraph.data.prepared.TrainView` only (training samples, training links,
training labels), chooses its hyper-parameters (or its stopping epoch) through the
``validate`` callback, and ``scorer(new)`` scores the view's nodes and new samples, each new
sample on its own, with preprocessing statistics of the training rows only.

Link baselines:

- ``cosine``: cosine similarity of the raw features. Meaningful only where one encoder
  embeds both modalities into one space; it needs equal feature dimensions.
- ``siamese``: one MLP tower per modality into a shared space, symmetric InfoNCE with
  in-batch negatives and a learned temperature.
- ``siamese-l2``: the same towers trained with the squared-distance shared-space loss on unit
  vectors, with a hinge on in-batch non-links against collapse.
- ``autoencoder``: per-modality encoders into one latent space, each latent reconstructing
  both modalities of a link, an alignment term on linked pairs; latent cosine.
- ``fusion``: an MLP on the concatenated features of a pair, a binary classifier trained
  with sampled non-links.
- ``attention-fusion``: both features projected to tokens, a small self-attention and a
  HAN-style attention pooling over the two tokens, then an MLP classifier.
- ``transfer``: ridge maps both ways between the feature spaces; a direction scores the query
  carried over, the candidate carried over, or both (chosen on validation).
- ``knn-transfer``: a query takes the similarity-weighted target-space embedding of its
  nearest training samples of its own modality.
- ``late-fusion``: model-level fusion; ridge and kNN transfer predictors in each modality's
  space, their scores summed with weights chosen on validation.
- ``component-class``: the connected components of the training links as classes, a
  classifier per modality, a link scored by the dot product of the class probabilities; for
  tasks whose links form few large clusters (one digit each), not one-to-one links.

Item baselines (item tasks only, :mod:`.items`): feature-level fusion ``items-concat``
(concatenated per-modality features with missing indicators; logistic regression or a ridge map)
and ``items-mlp`` (an MLP, labels), model-level fusion ``items-average``, ``items-combiner``
(per-modality weights chosen on validation items) and ``items-single`` (the best single modality), and
attention fusion ``items-attention`` (:mod:`.items_attention`: self-attention over the tokens of the
modalities an item has, a key padding mask for the missing ones).

Label baselines (``logreg``, ``label-transfer``) train on the training labels of the node
type. A node type without training labels of its own (``digits-audio-label``: only images
are labelled) borrows them through the training links: a training node linked to labelled
nodes of another modality takes their majority label, and those nodes are its training set.

Modules: :mod:`._common` (shared helpers and bases), :mod:`._training` (the trained link
baselines' loop), :mod:`.embedding`, :mod:`.autoencoder`, :mod:`.fusion`, :mod:`.transfer`,
:mod:`.late_fusion`, :mod:`.component`, :mod:`.label`, :mod:`.items`, :mod:`.items_attention`.
"""

from mmgraph.errors import NotApplicableError
from mmgraph.models.baselines.autoencoder import AutoencoderBaseline, AutoencoderConfig
from mmgraph.models.baselines.component import ComponentClassBaseline, ComponentClassConfig
from mmgraph.models.baselines.embedding import (
    CosineBaseline,
    CosineConfig,
    SiameseBaseline,
    SiameseConfig,
    SiameseL2Baseline,
    SiameseL2Config,
)
from mmgraph.models.baselines.fusion import (
    AttentionFusionBaseline,
    AttentionFusionConfig,
    FusionBaseline,
    FusionConfig,
)
from mmgraph.models.baselines.items import (
    ItemsAverageBaseline,
    ItemsCombinerBaseline,
    ItemsConcatBaseline,
    ItemsConcatConfig,
    ItemsLateConfig,
    ItemsMLPBaseline,
    ItemsMLPConfig,
    ItemsSingleBaseline,
)
from mmgraph.models.baselines.items_attention import ItemsAttentionBaseline, ItemsAttentionConfig
from mmgraph.models.baselines.label import (
    LabelTransferBaseline,
    LabelTransferConfig,
    LogRegBaseline,
    LogRegConfig,
)
from mmgraph.models.baselines.late_fusion import LateFusionBaseline, LateFusionConfig
from mmgraph.models.baselines.transfer import (
    KNNTransferBaseline,
    KNNTransferConfig,
    TransferBaseline,
    TransferConfig,
)

BASELINES: dict[str, type] = {
    cls.name: cls
    for cls in (
        CosineBaseline, SiameseBaseline, SiameseL2Baseline, AutoencoderBaseline, FusionBaseline,
        AttentionFusionBaseline, TransferBaseline, KNNTransferBaseline, LateFusionBaseline, ComponentClassBaseline,
        LogRegBaseline, LabelTransferBaseline, ItemsConcatBaseline, ItemsMLPBaseline, ItemsAverageBaseline,
        ItemsCombinerBaseline, ItemsSingleBaseline, ItemsAttentionBaseline,
    )
}
"""Every baseline by its registered name."""

LINK_BASELINES: tuple[str, ...] = tuple(
    name for name, cls in BASELINES.items() if "link" in cls.kinds and not cls.item_only
)
"""The baselines that rank links of single samples (their ``kinds``), in the order of :data:`BASELINES`."""
LABEL_BASELINES: tuple[str, ...] = tuple(
    name for name, cls in BASELINES.items() if "label" in cls.kinds and not cls.item_only
)
"""The baselines that predict labels of single samples (their ``kinds``), in the order of :data:`BASELINES`."""
ITEM_BASELINES: tuple[str, ...] = tuple(name for name, cls in BASELINES.items() if cls.item_only)
"""The baselines of item tasks only (:mod:`.items`), in the order of :data:`BASELINES`."""

__all__ = [
    "BASELINES", "ITEM_BASELINES", "LABEL_BASELINES", "LINK_BASELINES", "AttentionFusionBaseline",
    "AttentionFusionConfig",
    "AutoencoderBaseline", "AutoencoderConfig", "ComponentClassBaseline", "ComponentClassConfig", "CosineBaseline",
    "CosineConfig", "FusionBaseline", "FusionConfig", "ItemsAttentionBaseline", "ItemsAttentionConfig",
    "ItemsAverageBaseline", "ItemsCombinerBaseline",
    "ItemsConcatBaseline", "ItemsConcatConfig", "ItemsLateConfig", "ItemsMLPBaseline", "ItemsMLPConfig",
    "ItemsSingleBaseline",
    "KNNTransferBaseline", "KNNTransferConfig", "LabelTransferBaseline", "LabelTransferConfig",
    "LateFusionBaseline", "LateFusionConfig", "LogRegBaseline", "LogRegConfig", "NotApplicableError",
    "SiameseBaseline", "SiameseConfig", "SiameseL2Baseline", "SiameseL2Config", "TransferBaseline",
    "TransferConfig",
]
