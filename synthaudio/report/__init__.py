"""The study report: report.md, the same tables as CSV, PNG plots, and a summary for the terminal.

FOLDER/
  index.html                 the same tables and plots as one page, heat maps, and a gallery to listen to real and
                             synthetic clips per class (synthaudio.report.html); media/ its Opus clips and thumbnails
  report.md                  protocol, datasets (real test clips, chance), every table, links to the plots
  results.csv, results.json  one row per evaluation (per seed); results.json also holds per-class metrics and the
                             evidence (intervals, comparisons, power), so a report can be rebuilt without the study
  datasets.csv, zero_shot.csv, quantity.csv, real_fraction.csv, per_class_precision.csv, class_filter.csv,
  clip_filter.csv, speech_augment.csv, domain_gap.csv, domain_gap_correlation.csv
                             (those the study's experiments produce; the aggregated tables carry
                             <metric>_ci_low / <metric>_ci_high, the 95% interval of each condition)
  intervals.csv              every condition (all seeds of one setting on one test set) with its intervals
  comparisons.csv            every paired comparison the experiments declared: difference, interval, p, Holm p
  test_sets.csv              each test set's power: the smallest accuracy difference it detects with 80% power
  prompt_examples.csv        a few prompts per class of every prompt strategy the pools used (label vs LLM), and
                             for speech the descriptors applied and ignored
  zero_shot_accuracy.png, quantity.png, real_fraction.png, per_class_precision.png, snr.png, domain_gap.png
  confusion/<condition>.png  confusion matrices summed over seeds (clean test)
"""

from pathlib import Path

from synthaudio.report.document import write_report
from synthaudio.report.results import ROW_COLUMNS, StudyResults

__all__ = ["ROW_COLUMNS", "StudyResults", "write_report", "rebuild_report"]


def rebuild_report(results_json: Path | str, folder: Path | str | None = None) -> tuple[Path, str]:
    """Write the report again from a results.json (e.g. after changing the report code)."""
    results_json = Path(results_json).absolute()
    # results.json lies in OUT/report/: the gallery's clip paths are relative to OUT
    return write_report(StudyResults.load(results_json), Path(folder) if folder else results_json.parent,
                        study_root=results_json.parent.parent)
