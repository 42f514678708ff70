"""Studies: one YAML (schema.py), one command. A study is a plan of stages over files that the CLI also exposes
(prepare, prompts, generate, train, evaluate), each cached by the hash of what decides its output.

  schema.py       the study file's pydantic models, loaded with 'file:line: field: problem' for every problem
  registries.py   experiment kinds, clip scorers and stage executors by name (a leaf: the schema reads it)
  runner.py       run_study: prepare, plan, execute level by level, collect results, report
  stages.py       the stage contract: a stage kind is one typed object (identity -> cache key, run)
  plan.py         Stage / StageJob / Planner / Plan (the graph of stages), Data, ResultSpec
  cache.py        stage keys (canonical JSON), stage folders, done markers
  context.py      the building blocks experiments plan with (real data, synthetic subsets, training, evaluation)
  real.py, synthetic.py, recognition.py, filtering.py   stage kinds (and filter planning)
  zero_shot.py, quantity.py, mixed.py, filtering.py, speech_augment.py   one module per experiment kind
  executor.py, ray_executor.py   stage executors (local; Ray actors)
  results.py      the finished plan -> the report's results table

The package imports nothing itself: `from synthaudio.study.runner import run_study`.
"""
