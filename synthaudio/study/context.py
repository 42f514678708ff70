"""The building blocks every experiment plans with: real data, synthetic subsets, training and evaluation stages.

Each block adds the stages it needs to the plan (once per key) and returns what downstream stages read.
"""

from pathlib import Path
from typing import Any

from synthaudio.fsutil import file_sha256
from synthaudio.recognition.data import NoiseAugmentation
from synthaudio.recognition.training import TrainSettings
from synthaudio.report.results import Condition
from synthaudio.seeding import derive_seed
from synthaudio.study.plan import Data, Planner, PreparedInfo, Stage, StageRef, Synthetic
from synthaudio.study.real import RealSubsetStage
from synthaudio.study.recognition import EvaluateStage, TrainStage
from synthaudio.study.schema import NoiseSource, StudyConfig
from synthaudio.study.synthetic import plan_subset


class StudyContext:
    """The config, the planner and the prepared datasets, with the blocks experiments are made of."""

    def __init__(self, config: StudyConfig, planner: Planner, prepared: dict[str, PreparedInfo], cache_dir: Path):
        self.config = config
        self.planner = planner
        self.prepared = prepared
        self.cache_dir = cache_dir

    @property
    def seeds(self) -> list[int]:
        return list(self.config.seeds)

    # ------------------------------------------------------------ real data

    def require_rows(self, dataset: str, split: str, loc: tuple, hint: str) -> None:
        """A ConfigError naming `loc` when the prepared dataset has no rows of `split`."""
        info = self.prepared[dataset]
        if info.ready and not info.splits.get(split):
            counts = ", ".join(f"{name} {count}" for name, count in info.splits.items() if count) or "no rows"
            raise self.config.error(loc, f"dataset '{dataset}' has no {split} rows ({counts}); {hint}")

    def real(self, dataset: str) -> Data:
        return self.prepared[dataset].data()

    def real_train(self, dataset: str, fraction: float, seed: int) -> Data:
        """The train rows of a seeded, stratified `fraction` of the dataset's training split (all at 1.0)."""
        info = self.prepared[dataset]
        if fraction == 1.0:
            return info.data()
        subset_seed = derive_seed(self.config.subset_seed, "real-fraction", fraction,
                                  *((seed,) if self.config.resample_real_subsets else ()))
        stage = self.planner.add(RealSubsetStage(info.data(), fraction, subset_seed), info.data().deps,
                                 f"{dataset}: {fraction:g} of the real training split")
        return Data(stage.folder / "train.jsonl", stage.key, stage.key)

    def noise(self, source: NoiseSource, seed: int, loc: tuple) -> tuple[Data, str | None, tuple[str, ...]]:
        """(manifest, split to use or None for all rows, generation pools) of a noise source."""
        if source.synthetic is not None:
            synthetic = self.synthetic(source.synthetic.labels, source.synthetic.generator, source.synthetic.prompts,
                                       source.synthetic.clips_per_class, seed)
            return synthetic.train, None, synthetic.pools
        if source.dataset is not None:
            info = self.prepared[source.dataset]
            if source.extra is None:
                return info.data(), source.split, ()
            if not info.ready:
                return Data(info.manifest.with_name(f"manifest.{source.extra}.jsonl"),
                            f"pending:{info.stage}:{source.extra}", info.stage), source.split, ()
            if source.extra not in info.extras:
                raise self.config.error(loc + ("extra",), f"dataset '{source.dataset}' has no extra manifest "
                                                          f"'{source.extra}' (it has: "
                                                          f"{', '.join(info.extras) or 'none'})")
            return info.extra(source.extra), source.split, ()
        return Data(source.manifest, file_sha256(source.manifest)), source.split, ()

    # ------------------------------------------------------------ synthetic data

    def labels_and_domain(self, name: str) -> tuple[list[str], str]:
        """The prompt labels and domain of a dataset or label set."""
        if name in self.config.label_sets:
            label_set = self.config.label_sets[name]
            return sorted(label_set.labels), label_set.domain
        domain = self.config.datasets[name].domain
        if domain is None:
            raise self.config.error(("datasets", name, "domain"), "needed to write prompts for this dataset's labels "
                                                                "(sound, music, speech or action)")
        return self.prepared[name].labels, domain

    def generation_seed(self, seed: int) -> int:
        if self.config.vary_generation_seed:
            return derive_seed(self.config.generation_seed, "generation", seed)
        return self.config.generation_seed

    def synthetic(self, labels_from: str, generator: str, prompts: str, clips_per_class: int, seed: int,
                  holdout_fraction: float | None = None) -> Synthetic:
        """The first `clips_per_class` clips per label of a generation pool (made up to the largest ask); for a
        merged generator, each member's share of them from its own pool, concatenated."""
        labels, domain = self.labels_and_domain(labels_from)
        dependency = self.prepared[labels_from].stage if labels_from in self.prepared else None
        return plan_subset(self.config, self.planner, labels, domain, labels_from, generator, prompts, clips_per_class,
                           self.generation_seed(seed), holdout_fraction, dependency)

    # ------------------------------------------------------------ recognition

    def train_settings(self, experiment: str, dataset: str, seed: int, augment: dict | None = None) -> TrainSettings:
        settings = self.config.training_settings(experiment)
        update: dict[str, Any] = {"seed": seed, "protocol": self.config.protocol,
                                  "labels": self.prepared[dataset].labels}
        if augment is not None:
            update["augment_noise"] = NoiseAugmentation.model_validate(augment)
        return settings.model_copy(update=update)

    def train(self, experiment: str, dataset: str, train: list[Data], val: Data, seed: int, title: str,
              optional: list[Data] = (), augment: tuple[Data, dict] | None = None, val_split: str | None = None
              ) -> Stage:
        """A training run on `train` (+ `optional` manifests, skipped when filtering left them empty), validated on
        the `val_split` rows of `val` (default: the training settings', "val")."""
        augment_data, augment_settings = augment if augment is not None else (None, None)
        if augment_data is not None:
            augment_settings = {**augment_settings, "manifest": str(augment_data.path)}
        settings = self.train_settings(experiment, dataset, seed, augment_settings)
        if val_split is not None:
            settings = settings.model_copy(update={"val_split": val_split})
        test = self.real(dataset) if self.config.protocol == "paper" else None
        spec = TrainStage(settings, list(train), list(optional), val, test, augment_data, self.cache_dir)
        deps = [dep for d in [*train, *optional, val, *([test] if test else []),
                              *([augment_data] if augment_data else [])] for dep in d.deps]
        return self.planner.add(spec, deps, title)

    def evaluate(self, training: Stage, test: Data, seed: int, split: str = "test", noise: tuple[Data, str | None]
                 | None = None, snr_db: float | None = None) -> Stage:
        noise_data, noise_split = noise if noise is not None else (None, None)
        spec = EvaluateStage(StageRef.of(training), test, split, noise_data, noise_split, snr_db, seed,
                             self.cache_dir)
        condition = "clean" if snr_db is None else f"{snr_db:g} dB SNR"
        deps = (training.key, *test.deps, *(noise_data.deps if noise_data else ()))
        return self.planner.add(spec, deps, f"{training.title} -> {split} ({condition})")

    def result(self, evaluation: Stage, training: Stage, condition: Condition, pools: tuple[str, ...] = ()) -> None:
        """Show this evaluation in the report, described by `condition`."""
        self.planner.result(evaluation, training, condition, pools)

    def compare(self, a: Condition, b: Condition, question: str) -> None:
        """Declare what the experiment compares: condition a against b (a - b, all seeds of each, paired by seed on
        their common test set), e.g. mixed vs real-only at the same real fraction. The report gives each declared
        pair its paired interval and p-value (Holm-adjusted over the report); a pair on different test sets or
        seeds is refused there with one line naming both. The seeds of `a` and `b` are ignored."""
        self.planner.compare(a, b, question)
