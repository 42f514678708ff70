"""Speech augmentation: train a speech model on its real training data with background noise mixed in at an SNR
drawn from [low, high] dB (the study: synthetic ESC-50-like clips, 3-30 dB), compared with no augmentation and
with other (e.g. real) noise pools; test clean and with held-out noise at fixed SNRs. The test noise must share
no file with any training noise nor with the test speech, or the noisy test would measure memorised noise (or
the test clip itself); where real noise shares a speaker (a manifest group) with the test speech or with the
other noise, the report's notes say so.

With `speech:` the training speech is synthetic (a pool of the dataset's labels, as in zero-shot) and the real
data is only tested on: the noise robustness of a zero-shot model (e.g. the offline demo's ten recorded digits).
The rows' generator, prompts and clips_per_class then describe that speech; otherwise the synthetic noise pool.

Compared (paired, in the report): each noise augmentation against none, at each test condition (clean and each
test SNR; test noise is drawn with the training seed, so the two models of a seed hear the same noisy test).
"""

from synthaudio.manifest import read_manifest, select
from synthaudio.recognition.data import file_records
from synthaudio.report.results import Condition
from synthaudio.study.context import StudyContext
from synthaudio.study.plan import Data
from synthaudio.study.schema import SpeechAugment

NO_AUGMENTATION = "none"


def plan(ctx: StudyContext, name: str, experiment: SpeechAugment) -> None:
    dataset = experiment.dataset
    loc = ("experiments", name)
    speech = experiment.speech
    holdout = experiment.holdout_fraction if experiment.validation == "synthetic_holdout" else None
    needed = [("test", loc + ("dataset",), "the study tests on it")]
    if speech is None:
        needed[:0] = [("train", loc + ("dataset",), "the speech model trains on it (or give synthetic `speech`)"),
                      ("val", loc + ("dataset",), "the model is selected on it")]
    elif holdout is None:
        needed.append(("val", loc + ("validation",), "or set validation: synthetic_holdout to select on held-out "
                                                     "synthetic clips"))
    for split, where, hint in needed:
        ctx.require_rows(dataset, split, where, hint)
    for seed in ctx.seeds:
        test_noise, test_split, _ = ctx.noise(experiment.test_noise, seed, loc + ("test_noise",))
        variants: dict[str, tuple | None] = {NO_AUGMENTATION: None}
        for noise_name, source in experiment.noise.items():
            data, split, pools = ctx.noise(source, seed, loc + ("noise", noise_name))
            if source.synthetic is None:  # generated clips are new files; real ones may overlap the test noise
                _check_disjoint(ctx, loc, noise_name, (data, split), (test_noise, test_split))
            augment = {"split": split, "snr_db": list(experiment.train_snr_db), "p": experiment.augment_p,
                       "invert_polarity_p": experiment.invert_polarity_p}
            variants[noise_name] = (data, augment, pools, source.synthetic)
        if seed == ctx.seeds[0]:
            _check_test_noise(ctx, name, experiment, (test_noise, test_split))
        if speech is None:
            train, val = ctx.real_train(dataset, experiment.real_fraction, seed), ctx.real(dataset)
            speech_pools, described = (), dataset
        else:
            synthetic_speech = ctx.synthetic(dataset, speech.generator, speech.prompts, speech.clips_per_class, seed,
                                             holdout)
            train, speech_pools = synthetic_speech.train, synthetic_speech.pools
            val = synthetic_speech.val if holdout else ctx.real(dataset)
            described = f"{dataset} zero-shot {speech.generator}/{speech.prompts} {speech.clips_per_class} clips/class"
        conditions: dict[tuple[str, float | None], Condition] = {}
        for variant, augmentation in variants.items():
            data, augment, pools, synthetic = augmentation or (None, None, (), None)
            training = ctx.train(name, dataset, [train], val, seed,
                                 f"{name}: {described} augmented with {variant} seed {seed}",
                                 augment=(data, augment) if data is not None else None)
            source = speech if speech is not None else synthetic
            for snr_db in (None, *experiment.test_snr_db):
                evaluation = ctx.evaluate(training, ctx.real(dataset), seed,
                                          noise=(test_noise, test_split) if snr_db is not None else None,
                                          snr_db=snr_db)
                condition = Condition(
                    name, experiment.kind, dataset, variant, source.generator if source else None,
                    source.prompts if source else None, source.clips_per_class if source else 0,
                    experiment.real_fraction if speech is None else 0.0, experiment.validation, seed, snr_db)
                ctx.result(evaluation, training, condition, (*speech_pools, *pools))
                conditions[variant, snr_db] = condition
        for (variant, snr_db), condition in conditions.items():
            if variant != NO_AUGMENTATION:
                ctx.compare(condition, conditions[NO_AUGMENTATION, snr_db], "noise augmentation vs none")


def _check_disjoint(ctx: StudyContext, loc: tuple, noise_name: str, train: tuple[Data, str | None],
                    test: tuple[Data, str | None]) -> None:
    """Refuse training noise that shares a file (by path or content) with the test noise."""
    (train_data, train_split), (test_data, test_split) = train, test
    if not (train_data.path.is_file() and test_data.path.is_file()):
        return  # dry run before preparation
    train_records = file_records(select(read_manifest(train_data.path), split=train_split), str(train_data.path))
    test_records = file_records(select(read_manifest(test_data.path), split=test_split), str(test_data.path))
    test_paths = {r.path for r in test_records}
    test_hashes = {r.sha256 for r in test_records}
    shared = [r.path for r in train_records if r.path in test_paths or r.sha256 in test_hashes]
    if shared:
        raise ctx.config.error(loc + ("test_noise",), f"shares {len(shared)} file(s) with the training noise "
                                                      f"'{noise_name}' (e.g. {shared[0]}); test noise must be "
                                                      f"disjoint from training noise")


def _rows(data: Data, split: str | None):
    return select(read_manifest(data.path), split=split)


def _check_test_noise(ctx: StudyContext, name: str, experiment: SpeechAugment,
                      test_noise: tuple[Data, str | None]) -> None:
    """Refuse test noise that shares a file with the test speech; note every real noise pool that shares a
    speaker (group) with the test speech or with the test noise."""
    loc = ("experiments", name)
    noise_data, noise_split = test_noise
    speech = ctx.real(experiment.dataset)
    if not (noise_data.path.is_file() and speech.path.is_file()):
        return  # dry run before preparation
    speech_rows, noise_rows = _rows(speech, "test"), _rows(noise_data, noise_split)
    speech_records = file_records(speech_rows, str(speech.path))
    noise_records = file_records(noise_rows, str(noise_data.path))
    paths, hashes = {r.path for r in speech_records}, {r.sha256 for r in speech_records}
    shared = [r.path for r in noise_records if r.path in paths or r.sha256 in hashes]
    if shared:
        raise ctx.config.error(loc + ("test_noise",), f"shares {len(shared)} file(s) with the test speech of "
                                                      f"'{experiment.dataset}' (e.g. {shared[0]}); test noise must "
                                                      f"be other recordings")
    speakers = {"the test speech": {row.group for row in speech_rows if row.group},
                "the test noise": {row.group for row in noise_rows if row.group}}
    for pool, source in experiment.noise.items():
        if source.synthetic is None and source.dataset is not None and source.extra is None:
            data = ctx.real(source.dataset)
            if data.path.is_file():
                speakers[f"the training noise '{pool}'"] = {row.group for row in _rows(data, source.split)
                                                             if row.group}
    names = list(speakers)
    for index, first in enumerate(names):
        for second in names[index + 1:]:
            common = sorted(speakers[first] & speakers[second])
            if common:
                ctx.planner.plan.notes.append(f"{name}: {first} and {second} share speaker(s) "
                                              f"{', '.join(common)} (other recordings, the same voice)")
