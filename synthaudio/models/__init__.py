"""Recognition models behind one builder, each backend imported only when asked for.

Every model maps a batch of normalised features to logits: `model(inputs, valid_frames) -> (batch, classes)`,
and carries `model.spec`: the JSON-serialisable options that rebuild the same architecture without its original
checkpoint (a run folder stores them; its weights come from model.safetensors).
"""

from pydantic import BaseModel, ValidationError

from synthaudio.errors import ConfigError, field_problem
from synthaudio.features import FeatureSettings
from synthaudio.registry import Registry

# An entry is a module with `Options`, `adapt_features(features, **options)` and `build(num_classes, features,
# **options)`; plugins register such modules under the entry-point group "synthaudio.models".
MODELS = Registry("model", "synthaudio.models", {
    "cnn": "synthaudio.models.cnn",  # small log-mel CNN: trains in seconds on a CPU
    "ast": "synthaudio.models.ast",  # transformers AST with SSAST-Base shapes (the study's model)
    "whisper": "synthaudio.models.whisper",  # Whisper encoder, weighted layer sum, MLP head (speech tasks)
})


def model_module(name: str):
    return MODELS.load(name)


def parse_options(name: str, schema: type[BaseModel], options: dict) -> BaseModel:
    """Validate model options (a typo is an error naming the option)."""
    try:
        return schema.model_validate(options)
    except ValidationError as error:
        problem = field_problem(error)
        field = problem.field or "options"
        if problem.kind == "unknown":
            raise ConfigError(f"model '{name}': unknown option '{field}' (allowed: "
                              f"{', '.join(schema.model_fields)})") from None
        raise ConfigError(f"model '{name}': option '{field}': {problem.message}") from None


def feature_settings_for(name: str, features: FeatureSettings, **options) -> FeatureSettings:
    """The features model `name` consumes: `features` as given (fbank models) or its own log-mel (Whisper)."""
    return model_module(name).adapt_features(features, **options)


def build_model(name: str, num_classes: int, features: FeatureSettings | None = None, **options):
    """A freshly initialised (or checkpoint-initialised) model for `num_classes` classes.

    Args:
        features: the feature settings the model reads (their shape fixes input sizes); default FeatureSettings().
        options: model-specific (e.g. checkpoint=local path or HF-cache id, tiny-config sizes); see each module's
            Options.
    """
    if num_classes < 2:
        raise ConfigError(f"model '{name}': needs at least 2 classes, got {num_classes}")
    module = model_module(name)
    features = module.adapt_features(features or FeatureSettings(), **options)
    return module.build(num_classes, features, **options)
