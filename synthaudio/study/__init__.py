"""Studies: one YAML (synthaudio.config), one command. A study is a plan of stages, each a plain function over
files that the CLI also exposes (prepare, prompts, generate, train, evaluate), cached by the hash of its inputs.

  runner.py       run_study: prepare, plan, execute level by level, collect results, report
  plan.py         Stage / Job / Planner / Plan (the graph of stages)
  cache.py        stage keys (canonical JSON), stage folders, done markers
  context.py      the building blocks experiments plan with (real data, synthetic subsets, training, evaluation)
  real.py, synthetic.py, recognition.py, filtering.py   stage runners (and filter planning)
  zero_shot.py, quantity.py, mixed.py, filtering.py, speech_augment.py   one module per experiment kind
  executor.py     executors (local; a distributed one implements the same run(jobs))
  results.py      the finished plan -> the report's results table
"""

from synthaudio.study.runner import StudyOutcome, plan_lines, run_study

__all__ = ["StudyOutcome", "plan_lines", "run_study"]
