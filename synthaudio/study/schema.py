"""study.yaml: the pydantic models of a study, loaded with errors that name the file, the line and the field.

Every mapping forbids unknown keys, so a typo is an error, never a silently ignored setting. Paths are relative to
the YAML file's folder. Names defined in one section (datasets, label_sets, prompts, generators) are checked where
other sections refer to them. Checks that need the prepared data (e.g. that a listed label exists in the dataset)
happen when the study is planned, with the same kind of message (`StudyConfig.where`).
"""

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from synthaudio.datasets import RECIPES, get_recipe
from synthaudio.errors import ConfigError
from synthaudio.generators import GENERATORS, generator_class
from synthaudio.prompts.relevance import DEFAULT_THRESHOLD
from synthaudio.recognition.training import TrainSettings
from synthaudio.study.registries import ALLOCATION_RULES, EXPERIMENTS, SCORERS
from synthaudio.yaml_source import YamlDocument, describe, read_yaml, where

Domain = Literal["sound", "music", "speech", "action"]
PromptStrategy = Literal["label", "llm", "caption"]
Protocol = Literal["validation", "paper"]
# the study sets these per training run; a `training:` section may not
STUDY_OWNED_TRAINING = {"seed": "seeds: [...] at the top of the study", "protocol": "protocol: at the top of the study",
                        "labels": "the dataset's labels (datasets.<name>.labels)"}
# study-file names -> PromptRequest fields; the others (labels, domain, seed, ...) are set by the study
PROMPT_OPTIONS = ("context", "descriptors_per_prompt", "num_descriptors", "num_captions", "retries",
                  "negative_prompt")
# the relevance screen of LLM-written descriptors, named as `synthaudio prompts` names them (--no-relevance,
# --relevance-threshold, --embedding-model); they make a RelevanceSettings (synthaudio.study.prompting)
RELEVANCE_OPTIONS = ("relevance", "relevance_threshold", "embedding_model")
LLM_SETTINGS = ("backend", "model", "base_url", "gguf_file", "device")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_fraction(value: float) -> float:
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(f"a fraction must be in (0, 1], got {value!r}")
    return float(value)


Fraction = Annotated[float, AfterValidator(_check_fraction)]


class LabelSet(Strict):
    """A named list of class labels (e.g. ESC-50's 50 classes as prompt labels for a noise pool)."""

    labels: list[str] = Field(min_length=1)
    domain: Domain

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels) or any(not label.strip() for label in labels):
            raise ValueError("labels must be distinct, non-empty names")
        return labels


class DatasetEntry(Strict):
    """A real dataset: a recipe over its official layout (see `synthaudio prepare`), or a prepared manifest."""

    recipe: str | None = Field(default=None, description="esc50, gtzan, speechcommands, iemocap, ucf101, "
                                                         "activitynet, folder, asterisk or qabcs")
    root: Path | None = Field(default=None, description="the dataset folder in its official layout")
    options: dict[str, Any] = Field(default_factory=dict, description="recipe options, e.g. {test_fold: 1}")
    manifest: Path | None = Field(default=None, description="a clip manifest instead of recipe + root")
    extra_manifests: dict[str, Path] = Field(default_factory=dict,
                                             description="with `manifest`: further manifests, e.g. {noise: ...}")
    labels: list[str] | str | None = Field(default=None, description="only these labels (a list or a label set)")
    domain: Domain | None = Field(default=None, description="what the labels describe, for prompts")
    seed: int = Field(default=0, description="seed of the recipe's validation/test splits")

    @model_validator(mode="after")
    def _one_source(self) -> "DatasetEntry":
        if self.manifest is None and (self.recipe is None or self.root is None):
            raise ValueError("give either recipe + root (a dataset in its official layout) or manifest (a clip "
                             "manifest)")
        if self.manifest is not None and (self.recipe is not None or self.root is not None or self.options):
            raise ValueError("give either recipe + root (+ options) or manifest, not both")
        if self.extra_manifests and self.manifest is None:
            raise ValueError("extra_manifests go with manifest; a recipe writes its own (e.g. speechcommands' noise)")
        if self.recipe is not None:
            if self.recipe not in RECIPES:
                raise ValueError(f"unknown recipe '{self.recipe}'; known recipes: {', '.join(RECIPES.names())}")
            if self.domain is None:
                self.domain = get_recipe(self.recipe).domain
        return self


class PromptsEntry(Strict):
    """A prompt strategy: label templates, LLM-assisted descriptors, or LLM captions (see `synthaudio prompts`)."""

    strategy: PromptStrategy
    llm: dict[str, Any] | None = Field(default=None, description="LLM backend settings, e.g. {backend: smollm2}")
    descriptors: Path | None = Field(default=None, description="reuse a descriptor file instead of asking an LLM")
    options: dict[str, Any] = Field(default_factory=dict, description="further prompt-builder options")

    # the study file's folder, set on loading: a relative embedding-model folder starts there
    _folder: Path | None = PrivateAttr(default=None)

    def embedding_model(self) -> str | None:
        """options.embedding_model as the relevance check loads it: a folder relative to the study file where one
        exists there, else as written (a Hugging Face id). Cache keys keep it as written, so a moved study folder
        keeps its prompts."""
        model = self.options.get("embedding_model")
        if model is None or self._folder is None or Path(model).expanduser().is_absolute():
            return model
        folder = self._folder / model
        return str(folder.resolve()) if folder.is_dir() else model

    @model_validator(mode="after")
    def _llm_where_needed(self) -> "PromptsEntry":
        if self.strategy == "label" and (self.llm is not None or self.descriptors is not None):
            raise ValueError("strategy 'label' uses no LLM: remove llm/descriptors")
        if self.strategy == "caption" and self.descriptors is not None:
            raise ValueError("strategy 'caption' has no descriptor file: the LLM writes whole captions")
        return self


class Postprocess(Strict):
    """Processing applied to a generated pool, written as a derived pool (the generated clips are reused)."""

    band_limit_hz: int = Field(gt=0, description="highest frequency kept, Hz (4000: telephone band, 8 kHz "
                                                 "sampling)")


class GeneratorEntry(Strict):
    """A generator with its checkpoint and settings (see `synthaudio generate`)."""

    generator: str
    checkpoint: str | None = Field(default=None, description="HF id, local path, or tiny-random (tests)")
    duration: float = Field(gt=0, description="seconds per clip")
    sample_rate: int = Field(default=16000, gt=0)
    batch_size: int = Field(default=8, ge=1)
    settings: dict[str, Any] = Field(default_factory=dict, description="backend settings, e.g. {steps: 50}")
    device: str | None = None
    dtype: str | None = None
    postprocess: Postprocess | None = None

    @field_validator("generator")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in GENERATORS:
            raise ValueError(f"unknown generator '{name}'; known generators: {', '.join(GENERATORS.names())}")
        return name


class MergedGeneratorEntry(Strict):
    """The union of other generators' pools at a fixed total: N clips per class take each member's first clips per
    label, its share of N by `weights` (largest remainder), from the pool its own runs use (nothing is generated
    twice). Compared with each member alone at the same N (merging different models' data vs more of one)."""

    merge: list[str] = Field(min_length=2, description="names of (not merged) generators of this section")
    weights: list[float] | None = Field(default=None, description="one positive weight per member (default: "
                                                                  "equal shares)")

    @field_validator("merge")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError(f"a merge lists distinct generators, got {names}")
        return names

    def member_weights(self) -> list[float]:
        """The members' weights (equal without `weights`)."""
        return list(self.weights) if self.weights is not None else [1.0] * len(self.merge)


def _generator_entry_kind(value: Any) -> str:
    """A generators-section entry is a merge when it has `merge`: a plain entry's mistakes then read as before."""
    if isinstance(value, dict):
        return "merged generators" if "merge" in value else "single generator"
    return "merged generators" if isinstance(value, MergedGeneratorEntry) else "single generator"


AnyGeneratorEntry = Annotated[Annotated[GeneratorEntry, Tag("single generator")]
                              | Annotated[MergedGeneratorEntry, Tag("merged generators")],
                              Discriminator(_generator_entry_kind)]


class SyntheticSource(Strict):
    """A synthetic pool named by its labels (a dataset or a label set), generator, prompts and size."""

    labels: str = Field(description="a dataset name or a label-set name")
    generator: str
    prompts: str
    clips_per_class: int = Field(gt=0)


class ClassFilter(Strict):
    """The study's filter: drop the synthetic clips of the classes whose zero-shot precision is lowest."""

    bottom_percent: float = Field(default=20.0, gt=0, lt=100, description="share of classes dropped")


class ClipFilter(Strict):
    """Drop synthetic clips that a scorer (e.g. a model trained on the real training data) finds unlike their label."""

    scorer: str = "real_model"
    threshold: float = Field(default=0.5, ge=0, le=1, description="minimum score of the clip's own label")
    options: dict[str, Any] = Field(default_factory=dict)


class Experiment(Strict):
    """Fields every experiment has."""

    dataset: str
    training: dict[str, Any] = Field(default_factory=dict, description="overrides of the study's training section")


class SyntheticGrid(Experiment):
    generators: list[str] = Field(min_length=1)
    prompts: list[str] = Field(min_length=1)


def _positive_counts(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError(f"clips_per_class values must be distinct, got {values}")
    for value in values:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"clips_per_class values must be whole numbers >= 1, got {value!r}")
    return sorted(values)


class ZeroShot(SyntheticGrid):
    """Train on synthetic clips only, test on real clips: per generator x prompt strategy x clips per class."""

    kind: Literal["zero_shot"]
    clips_per_class: int | list[int]
    validation: Literal["real", "synthetic_holdout"] = Field(
        default="real", description="real: select on the real val split; synthetic_holdout: on held-out "
                                    "synthetic clips (pure zero-shot, e.g. when the real data is test only)")
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)

    @field_validator("clips_per_class")
    @classmethod
    def _counts(cls, value):
        return _positive_counts(value if isinstance(value, list) else [value])

    @property
    def counts(self) -> list[int]:
        return list(self.clips_per_class)


class Quantity(ZeroShot):
    """Zero-shot accuracy as a function of clips per class."""

    kind: Literal["quantity"]  # type: ignore[assignment]

    @field_validator("clips_per_class")
    @classmethod
    def _several(cls, value):
        if len(value) < 2:
            raise ValueError("a quantity experiment needs at least two clips_per_class values")
        return value


class Mixed(SyntheticGrid):
    """Real training fractions x synthetic amounts, with the real-only baseline at each fraction."""

    kind: Literal["mixed"]
    clips_per_class: list[int] = Field(min_length=1)
    real_fractions: list[Fraction] = Field(min_length=1)

    @field_validator("clips_per_class")
    @classmethod
    def _counts(cls, value):
        return _positive_counts(value)

    @field_validator("real_fractions")
    @classmethod
    def _fractions(cls, values: list[float]) -> list[float]:
        if len(set(values)) != len(values):
            raise ValueError(f"real_fractions must be distinct, got {values}")
        return sorted(float(v) for v in values)


class Filtered(Mixed):
    """Mixed training with filtered synthetic data: class-level (zero-shot precision) and/or clip-level."""

    kind: Literal["filtered"]  # type: ignore[assignment]
    class_filter: ClassFilter | None = Field(default_factory=ClassFilter)
    clip_filter: ClipFilter | None = None

    @model_validator(mode="after")
    def _some_filter(self) -> "Filtered":
        if self.class_filter is None and self.clip_filter is None:
            raise ValueError("give class_filter and/or clip_filter")
        return self


class NoiseSource(Strict):
    """Noise for augmentation or testing: a synthetic pool, a real dataset (or one of its extra manifests), or a
    manifest file."""

    synthetic: SyntheticSource | None = None
    dataset: str | None = None
    extra: str | None = Field(default=None, description="the dataset's extra manifest, e.g. noise")
    split: str | None = Field(default=None, description="only rows of this split (default: all rows)")
    manifest: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "NoiseSource":
        given = [name for name in ("synthetic", "dataset", "manifest") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of synthetic, dataset or manifest")
        if self.extra is not None and self.dataset is None:
            raise ValueError("extra names an extra manifest of a dataset: give dataset too")
        return self


class SyntheticSpeech(Strict):
    """Synthetic training speech of the experiment's dataset labels (a zero-shot speech model)."""

    generator: str
    prompts: str
    clips_per_class: int = Field(gt=0)


class SpeechAugment(Experiment):
    """Speech training augmented with background noise pools, tested clean and at fixed SNRs with other noise."""

    kind: Literal["speech_augment"]
    speech: SyntheticSpeech | None = Field(
        default=None, description="train on synthetic speech of the dataset's labels instead of its real training "
                                  "split (zero-shot, e.g. when the real set is test only)")
    validation: Literal["real", "synthetic_holdout"] = Field(
        default="real", description="with `speech`: select on the real val split, or on held-out synthetic clips")
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)
    noise: dict[str, NoiseSource] = Field(min_length=1, description="augmentation pools by name, compared with "
                                                                    "training without augmentation")
    train_snr_db: tuple[float, float] = (3.0, 30.0)
    augment_p: float = Field(default=1.0, gt=0, le=1)
    invert_polarity_p: float = Field(default=0.5, ge=0, le=1)
    test_noise: NoiseSource
    test_snr_db: list[float] = Field(default_factory=lambda: [5.0, 10.0, 20.0], min_length=1)
    real_fraction: Fraction = 1.0

    @field_validator("train_snr_db")
    @classmethod
    def _ordered(cls, value):
        if value[0] > value[1]:
            raise ValueError(f"train_snr_db must be [low, high] with low <= high, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _speech_source(self) -> "SpeechAugment":
        if self.speech is None and self.validation == "synthetic_holdout":
            raise ValueError("validation: synthetic_holdout needs synthetic training speech: give `speech` "
                             "(generator, prompts, clips_per_class) or use validation: real")
        if self.speech is not None and "real_fraction" in self.model_fields_set:
            raise ValueError("real_fraction takes part of the real training split; with synthetic `speech` no real "
                             "clip is trained on: remove real_fraction")
        return self

    @field_validator("noise")
    @classmethod
    def _names(cls, value):
        if "none" in value:
            raise ValueError("'none' is the name of the run without augmentation; name the pool otherwise")
        return value

    @field_validator("test_snr_db")
    @classmethod
    def _finite(cls, values):
        if any(not math.isfinite(v) for v in values) or len(set(values)) != len(values):
            raise ValueError(f"test_snr_db must be distinct finite numbers, got {values}")
        return sorted(values)


class RewriteSettings(Strict):
    """Confusion-aware LLM rewrites in an adaptive experiment: after each measured round, the weakest classes'
    descriptors are rewritten, the LLM told what each class is mistaken for."""

    classes: int = Field(default=2, ge=1, description="weakest classes (lowest validation F1 below 1) per round")
    llm: dict[str, Any] = Field(default_factory=lambda: {"backend": "smollm2"},
                                description="LLM backend settings, as in a prompts entry")
    options: dict[str, Any] = Field(default_factory=dict, description="num_descriptors, retries, context")


REWRITE_OPTIONS = ("num_descriptors", "retries", "context")


class Adaptive(SyntheticGrid):
    """A total budget of synthetic clips spent in rounds: round 0 uniform, each later round shared among the
    classes by an allocation rule from how a model trained on the clips so far does per class on the real
    validation split; compared with uniform allocation at the same budget (see synthaudio.study.adaptive)."""

    kind: Literal["adaptive"]
    budget: int = Field(gt=0, description="synthetic clips per class on average, over all rounds")
    rounds: int = Field(default=3, ge=2, le=20)
    rules: list[str] = Field(default_factory=lambda: ["f1_gap"], min_length=1,
                             description="allocation rules, each compared with uniform allocation")
    rewrite: RewriteSettings | None = Field(default=None, description="LLM rewrites of the weakest classes' prompts")
    real_fraction: Fraction | None = Field(default=None, description="None: synthetic clips only (zero-shot); "
                                                                      "else mixed with this fraction of real train")
    validation: Literal["real"] = Field(default="real", description="each round is measured and its model "
                                                                    "selected on the real validation split")

    @model_validator(mode="after")
    def _budget(self) -> "Adaptive":
        if self.budget < self.rounds:
            raise ValueError(f"budget: {self.budget} clips per class over {self.rounds} rounds is less than one clip "
                             f"per class per round; give budget >= {self.rounds}, or fewer rounds")
        return self

    @field_validator("rules")
    @classmethod
    def _rules(cls, rules: list[str]) -> list[str]:
        if len(set(rules)) != len(rules):
            raise ValueError(f"rules must be distinct, got {rules}")
        for rule in rules:
            if rule == "uniform":
                raise ValueError("'uniform' is the baseline every adaptive run is compared with; name another rule "
                                 f"(known: {', '.join(r for r in ALLOCATION_RULES.names() if r != 'uniform')})")
            if rule not in ALLOCATION_RULES:
                raise ValueError(f"unknown allocation rule '{rule}'; known rules: "
                                 f"{', '.join(ALLOCATION_RULES.names())}")
        return rules


AnyExperiment = Annotated[ZeroShot | Quantity | Mixed | Filtered | SpeechAugment | Adaptive,
                          Field(discriminator="kind")]


class StudyConfig(Strict):
    """A whole study."""

    name: str = Field(min_length=1)
    description: str = ""
    output: Path | None = Field(default=None, description="default output folder (--out overrides)")
    protocol: Protocol = Field(default="validation", description="validation (honest) or paper (selection and "
                                                                 "class-filter precision on TEST: optimistic)")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    generation_seed: int = 0
    vary_generation_seed: bool = Field(default=False, description="one synthetic pool per training seed")
    subset_seed: int = Field(default=0, description="seed of the real training fractions")
    resample_real_subsets: bool = Field(default=False, description="draw each real fraction anew per seed")
    feature_cache: Path | None = Field(default=None, description="default: OUT/cache/features")
    label_sets: dict[str, LabelSet] = Field(default_factory=dict)
    datasets: dict[str, DatasetEntry] = Field(min_length=1)
    prompts: dict[str, PromptsEntry] = Field(default_factory=dict)
    generators: dict[str, AnyGeneratorEntry] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict, description="TrainSettings shared by every run")
    experiments: dict[str, AnyExperiment] = Field(min_length=1)

    # not part of the YAML: where it came from, to point at lines in messages
    _source: Path | None = None
    _nodes: Any = None

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        return seeds

    def where(self, *loc: str | int) -> str:
        """'file:line: a.b.c' for a field, to start an error message with."""
        return where(self._source, self._nodes, loc)

    def error(self, loc: tuple, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(*loc)}: {problem}")

    def training_settings(self, experiment: str | None = None) -> TrainSettings:
        """The validated TrainSettings of an experiment (study section + the experiment's overrides)."""
        merged = dict(self.training)
        if experiment is not None:
            merged.update(self.experiments[experiment].training)
        return TrainSettings.model_validate(merged)

    def labels_of(self, name: str) -> list[str] | None:
        """The labels a dataset is restricted to (list or label set), or of a label set; None: all of them."""
        if name in self.label_sets:
            return list(self.label_sets[name].labels)
        labels = self.datasets[name].labels
        if isinstance(labels, str):
            return list(self.label_sets[labels].labels)
        return labels


# ---------------------------------------------------------------- cross-references

def check_prompts_entry(entry: PromptsEntry) -> list[tuple[tuple, str]]:
    """(field path below the entry, problem) for each setting a study cannot use; empty when all is well."""
    problems: list[tuple[tuple, str]] = []
    for key in entry.options:
        if key not in PROMPT_OPTIONS + RELEVANCE_OPTIONS:
            problems.append((("options", key), f"unknown prompt option (allowed: "
                                               f"{', '.join(PROMPT_OPTIONS + RELEVANCE_OPTIONS)})"))
    problems += _relevance_problems(entry)
    problems += [(("llm", *loc), text) for loc, text in llm_settings_problems(entry.llm or {})]
    if entry.llm is not None and entry.descriptors is not None:
        problems.append((("descriptors",), "a descriptor file replaces the LLM: give llm or descriptors, not both"))
    return problems


def llm_settings_problems(llm: dict[str, Any]) -> list[tuple[tuple, str]]:
    """(key, problem) for each LLM setting a study file may not hold: an API key, or a key no backend takes."""
    problems: list[tuple[tuple, str]] = []
    for key in llm:
        if key == "api_key":
            problems.append(((key,), "API keys never go into a study file: set OPENAI_API_KEY or GEMINI_API_KEY in "
                                     "the environment"))
        elif key not in LLM_SETTINGS:
            problems.append(((key,), f"unknown LLM setting (allowed: {', '.join(LLM_SETTINGS)})"))
    return problems


def _relevance_problems(entry: PromptsEntry) -> list[tuple[tuple, str]]:
    """The relevance options' values: one problem per bad value, each saying what fits."""
    given = [key for key in RELEVANCE_OPTIONS if key in entry.options]
    if not given:
        return []
    if entry.strategy != "llm" or entry.descriptors is not None:
        what = "a descriptor file" if entry.descriptors is not None else f"strategy '{entry.strategy}'"
        return [(("options", key), f"the relevance screen checks the descriptors an LLM writes (strategy llm "
                                   f"without a descriptor file); {what} has none: remove it") for key in given]
    problems: list[tuple[tuple, str]] = []
    enabled = entry.options.get("relevance", True)
    if not isinstance(enabled, bool):
        problems.append((("options", "relevance"), f"must be true or false (false: keep descriptors without the "
                                                   f"relevance check; the safety filter always runs), got "
                                                   f"{enabled!r}"))
    threshold = entry.options.get("relevance_threshold")
    if "relevance_threshold" in entry.options and (
            isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold)
            or not -1 <= threshold <= 1):
        problems.append((("options", "relevance_threshold"), f"a cosine similarity between -1 and 1 (default "
                                                             f"{DEFAULT_THRESHOLD}), got {threshold!r}"))
    elif "relevance_threshold" in entry.options and enabled is False:
        problems.append((("options", "relevance_threshold"), "has no effect with relevance: false; remove one of "
                                                             "them"))
    model = entry.options.get("embedding_model")
    if "embedding_model" in entry.options and (not isinstance(model, str) or not model.strip()):
        problems.append((("options", "embedding_model"), f"a sentence-transformers model folder or cached Hugging "
                                                         f"Face id, e.g. sentence-transformers/all-MiniLM-L6-v2, "
                                                         f"got {model!r}"))
    elif "embedding_model" in entry.options and enabled is False:
        problems.append((("options", "embedding_model"), "has no effect with relevance: false; remove one of them"))
    return problems


def _reference_problems(config: StudyConfig) -> list[str]:
    """Every name that points at nothing, and every setting a named part cannot take."""
    problems: list[str] = []

    def problem(loc: tuple, text: str) -> None:
        problems.append(f"{config.where(*loc)}: {text}")

    def need(kind: str, names: dict, name: str, loc: tuple) -> None:
        if name not in names:
            plural = kind if kind.endswith("s") else kind + "s"
            problem(loc, f"{kind} '{name}' is not defined (defined {plural}: {', '.join(names) or 'none'})")

    for name, dataset in config.datasets.items():
        if isinstance(dataset.labels, str):
            need("label set", config.label_sets, dataset.labels, ("datasets", name, "labels"))
    clash = set(config.datasets) & set(config.label_sets)
    if clash:
        problem(("label_sets",), f"{', '.join(sorted(clash))}: a label set may not share a dataset's name")

    def check_synthetic(source: SyntheticSource, loc: tuple) -> None:
        if source.labels not in config.datasets and source.labels not in config.label_sets:
            problem(loc + ("labels",), f"'{source.labels}' is neither a dataset nor a label set (datasets: "
                                       f"{', '.join(config.datasets)}; label sets: "
                                       f"{', '.join(config.label_sets) or 'none'})")
        need("generator", config.generators, source.generator, loc + ("generator",))
        need("prompts", config.prompts, source.prompts, loc + ("prompts",))

    def check_noise(source: NoiseSource, loc: tuple) -> None:
        if source.synthetic is not None:
            check_synthetic(source.synthetic, loc + ("synthetic",))
        if source.dataset is not None:
            need("dataset", config.datasets, source.dataset, loc + ("dataset",))

    for name, entry in config.prompts.items():
        for loc, text in check_prompts_entry(entry):
            problem(("prompts", name, *loc), text)
    for name, entry in config.generators.items():
        if isinstance(entry, MergedGeneratorEntry):
            problems.extend(_merge_problems(config, name, entry))
            continue
        try:
            generator_class(entry.generator).validate_settings(entry.settings)
        except ConfigError as error:
            problem(("generators", name, "settings"), str(error))
    for name, experiment in config.experiments.items():
        loc = ("experiments", name)
        need("dataset", config.datasets, experiment.dataset, loc + ("dataset",))
        if isinstance(experiment, SyntheticGrid):
            for index, generator in enumerate(experiment.generators):
                need("generator", config.generators, generator, loc + ("generators", index))
            for index, prompts in enumerate(experiment.prompts):
                need("prompts", config.prompts, prompts, loc + ("prompts", index))
        if isinstance(experiment, SpeechAugment):
            if experiment.speech is not None:
                need("generator", config.generators, experiment.speech.generator, loc + ("speech", "generator"))
                need("prompts", config.prompts, experiment.speech.prompts, loc + ("speech", "prompts"))
            for noise_name, source in experiment.noise.items():
                check_noise(source, loc + ("noise", noise_name))
            check_noise(experiment.test_noise, loc + ("test_noise",))
        if isinstance(experiment, Adaptive) and experiment.rewrite is not None:
            for key in experiment.rewrite.options:
                if key not in REWRITE_OPTIONS:
                    problem(loc + ("rewrite", "options", key), f"unknown rewrite option (allowed: "
                                                               f"{', '.join(REWRITE_OPTIONS)})")
            for key_loc, text in llm_settings_problems(experiment.rewrite.llm):
                problem(loc + ("rewrite", "llm", *key_loc), text)
        if isinstance(experiment, Filtered) and experiment.clip_filter is not None:
            scorer = experiment.clip_filter.scorer
            if scorer not in SCORERS:
                problem(loc + ("clip_filter", "scorer"), f"unknown scorer '{scorer}'; known scorers: "
                                                         f"{', '.join(SCORERS.names())}")
    return problems


def _merge_problems(config: StudyConfig, name: str, entry: MergedGeneratorEntry) -> list[str]:
    """Members that are not plain generators of the section, and weights that do not fit them."""
    problems = []
    loc = ("generators", name)
    plain = [other for other, value in config.generators.items() if isinstance(value, GeneratorEntry)]
    for index, member in enumerate(entry.merge):
        found = config.generators.get(member)
        if found is None:
            problems.append(f"{config.where(*loc, 'merge', index)}: generator '{member}' is not defined (defined "
                            f"generators: {', '.join(plain) or 'none'})")
        elif isinstance(found, MergedGeneratorEntry):
            problems.append(f"{config.where(*loc, 'merge', index)}: '{member}' is itself a merged generator; merge "
                            f"its members instead ({', '.join(found.merge)})")
    if entry.weights is not None:
        if len(entry.weights) != len(entry.merge):
            problems.append(f"{config.where(*loc, 'weights')}: {len(entry.weights)} weight(s) for "
                            f"{len(entry.merge)} members ({', '.join(entry.merge)}); give one per member")
        for index, weight in enumerate(entry.weights):
            if not (math.isfinite(weight) and weight > 0):
                problems.append(f"{config.where(*loc, 'weights', index)}: a weight must be a positive number, got "
                                f"{weight!r}")
    return problems


def _training_problems(config: StudyConfig) -> list[str]:
    problems: list[str] = []
    sections = [(("training",), config.training)]
    sections += [(("experiments", name, "training"), e.training) for name, e in config.experiments.items()]
    for loc, section in sections:
        for key, owner in STUDY_OWNED_TRAINING.items():
            if key in section:
                problems.append(f"{config.where(*loc, key)}: '{key}' is set by the study ({owner}); remove it here")
    if problems:
        return problems
    seen: set[str] = set()
    for loc, section in sections:
        merged = {**config.training, **section}
        try:
            TrainSettings.model_validate(merged)
        except ValidationError as error:
            for found in error.errors():
                field_loc = tuple(found["loc"])
                # a bad shared value is reported where it is written, not at each experiment that inherits it
                owner = loc if field_loc and field_loc[0] in section else ("training",)
                line = f"{config.where(*owner, *field_loc)}: " \
                       f"{describe(found, TrainSettings, tuple(STUDY_OWNED_TRAINING))}"
                if line not in seen:
                    seen.add(line)
                    problems.append(line)
    return problems


# ---------------------------------------------------------------- loading

def parse_study(text: str, source: Path | str | None = None) -> StudyConfig:
    """A StudyConfig from YAML text. Anything wrong is one ConfigError holding every problem found, one line
    each ('file:line: field: problem'): first those of the file's shape, then, once it has one, its references."""
    document = read_yaml(text, source)
    if not isinstance(document.data, dict):
        raise ConfigError(f"{document.place}: a study is a YAML mapping (name:, datasets:, experiments:, ...); got "
                          f"{type(document.data).__name__}")
    kind_problems = _experiment_kind_problems(document)
    problems = list(kind_problems.values())
    try:
        config = StudyConfig.model_validate(document.data)
    except ValidationError as error:
        # an experiment without a known kind has no fields to check: its kind problem says it all
        problems += document.validation_problems(
            error, StudyConfig, skip=lambda loc: loc[:1] == ("experiments",) and loc[1:2] and loc[1] in kind_problems)
        raise ConfigError("\n".join(_in_file_order(problems, document.place))) from None
    if problems:
        raise ConfigError("\n".join(_in_file_order(problems, document.place)))
    config._source = Path(source) if source is not None else None
    config._nodes = document.nodes
    problems = _reference_problems(config) + _training_problems(config)
    if problems:
        raise ConfigError("\n".join(_in_file_order(problems, document.place)))
    if source is not None:
        _resolve_paths(config, Path(source).resolve().parent)
    return config


def _in_file_order(problems: list[str], place: str) -> list[str]:
    """Each problem once, ordered by the line it points at ('PLACE:LINE: ...')."""
    def line_of(problem: str) -> int:
        number = problem[len(place) + 1:].split(":", 1)[0] if problem.startswith(place + ":") else ""
        return int(number) if number.isdigit() else 0

    return sorted(dict.fromkeys(problems), key=line_of)


def _experiment_kind_problems(document: YamlDocument) -> dict[str, str]:
    """Experiment name -> its unknown or missing kind, said plainly (pydantic's tagged-union message is cryptic)."""
    experiments = document.data.get("experiments")
    if not isinstance(experiments, dict):
        return {}
    problems = {}
    for name, experiment in experiments.items():
        if not isinstance(experiment, dict):
            continue
        kind = experiment.get("kind")
        if kind is None:
            problems[name] = (f"{document.where(('experiments', name))}: missing 'kind' (one of "
                              f"{', '.join(EXPERIMENTS.names())})")
        elif not isinstance(kind, str):
            problems[name] = (f"{document.where(('experiments', name, 'kind'))}: 'kind' is one name (one of "
                              f"{', '.join(EXPERIMENTS.names())}), got {kind!r}")
        elif kind not in EXPERIMENTS:
            problems[name] = (f"{document.where(('experiments', name, 'kind'))}: unknown experiment kind "
                              f"'{kind}'; known kinds: {', '.join(EXPERIMENTS.names())}")
    return problems


def _resolve_paths(config: StudyConfig, base: Path) -> None:
    def resolve(path: Path | None) -> Path | None:
        return None if path is None else (base / path.expanduser()).resolve()

    config.output = resolve(config.output)
    config.feature_cache = resolve(config.feature_cache)
    for dataset in config.datasets.values():
        dataset.root = resolve(dataset.root)
        dataset.manifest = resolve(dataset.manifest)
        dataset.extra_manifests = {name: resolve(path) for name, path in dataset.extra_manifests.items()}
        for key in ("annotations",):  # recipe options that are paths
            if isinstance(dataset.options.get(key), str):
                dataset.options[key] = str(resolve(Path(dataset.options[key])))
    for prompts in config.prompts.values():
        prompts.descriptors = resolve(prompts.descriptors)
        prompts._folder = base
    for experiment in config.experiments.values():
        if isinstance(experiment, SpeechAugment):
            for source in (*experiment.noise.values(), experiment.test_noise):
                source.manifest = resolve(source.manifest)


def load_study(path: Path | str) -> StudyConfig:
    """Read and check a study YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: study file not found")
    return parse_study(path.read_text(encoding="utf-8"), path)
