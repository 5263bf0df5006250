"""One call from a task to a result, one module per concern.

- :mod:`.encoding`: each modality encoded for the task (encoders fitted on training samples only),
  the task prepared;
- :mod:`.factory`: a model from its name, options and seed;
- :mod:`.validation`: the validation callback models choose their settings with (of an item task:
  :class:`~.validation.ItemValidation`, which also scores the validation items);
- :mod:`.evaluation`: the test metrics (of an item task: its held-out items, :func:`~.evaluation.evaluate_items`);
- :mod:`.config`: a run's configuration, and reading a stored one;
- :mod:`.environment`: what a run records about where it ran, and seeding;
- :mod:`.result`: :class:`PipelineResult` and its folder (prediction: ``result.predictor()``);
- :mod:`.run`: :func:`pipeline`, which calls the others in order;
- :mod:`.kg`: the small run path of knowledge-graph tasks, which :func:`pipeline` hands them to.
"""

from mmgraph.pipeline.config import CONFIG_KEYS, load_config, run_config
from mmgraph.pipeline.encoding import encode_dataset, entity_features, prepare_task, training_classes
from mmgraph.pipeline.environment import json_default, seed_everything
from mmgraph.pipeline.evaluation import UnseenLabelWarning, evaluate, evaluate_items
from mmgraph.pipeline.factory import make_model
from mmgraph.pipeline.result import (
    CHECKPOINT_FOLDER,
    RESULT_FILES,
    PipelineResult,
    check_result_folder,
    is_own_entry,
)
from mmgraph.pipeline.run import pipeline
from mmgraph.pipeline.validation import ItemValidation, NoValidationWarning, validator

__all__ = [
    "CHECKPOINT_FOLDER", "CONFIG_KEYS", "RESULT_FILES", "ItemValidation", "NoValidationWarning", "PipelineResult",
    "UnseenLabelWarning", "check_result_folder", "encode_dataset", "entity_features", "evaluate", "evaluate_items",
    "is_own_entry", "json_default", "load_config", "make_model",
    "pipeline", "prepare_task", "run_config", "seed_everything", "training_classes", "validator",
]
