"""The study's own registries: experiment kinds, allocation rules, clip scorers and stage executors, by name.

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
    "adaptive": "synthaudio.study.adaptive:plan",
})

# how an adaptive experiment shares a round's clips among the classes (synthaudio.study.allocation); plugins
# register under the entry-point group "synthaudio.allocation_rules"
ALLOCATION_RULES: Registry = Registry("allocation rule", "synthaudio.allocation_rules", {
    "uniform": "synthaudio.study.allocation:uniform",
    "f1_gap": "synthaudio.study.allocation:f1_gap",
    "confusion": "synthaudio.study.allocation:confusion",
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
