"""The study's own registries: experiment kinds, clip scorers and stage executors, by name.

They live in this leaf module of the study package so that the study schema can check names without importing
the code that plans or runs them (which imports the schema).
"""

from synthaudio.registry import Registry

# kind -> the module whose `plan(ctx, name, experiment)` adds the experiment's stages
EXPERIMENTS: Registry = Registry("experiment kind", None, {
    "zero_shot": "synthaudio.study.zero_shot:plan",
    "quantity": "synthaudio.study.quantity:plan",
    "mixed": "synthaudio.study.mixed:plan",
    "filtered": "synthaudio.study.filtering:plan",
    "speech_augment": "synthaudio.study.speech_augment:plan",
})

# clip scorers for the clip-level filter (synthaudio.study.filtering.Scorer); plugins register under the
# entry-point group "synthaudio.scorers"
SCORERS: Registry = Registry("scorer", "synthaudio.scorers", {
    "real_model": "synthaudio.study.filtering:RealModelScorer",
    "clap": "synthaudio.study.clap_scorer:ClapScorer",  # needs laion/clap-htsat-unfused in the HF cache
})

# where the independent stages of a study step run (synthaudio.study.executor.StageExecutor)
EXECUTORS: Registry = Registry("executor", None, {
    "local": "synthaudio.study.executor:LocalStageExecutor",
    "ray": "synthaudio.study.ray_executor:RayStageExecutor",
})
