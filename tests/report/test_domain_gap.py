"""Per-class domain-gap measures: they agree with their textbook definitions, are unbiased where they claim to
be, and the report shows the gap against zero-shot precision with the rank correlation and its interval."""

import numpy as np
import pytest
from scipy import linalg

from synthaudio.report import write_report
from synthaudio.report.domain_gap import (
    detectability,
    frechet_distance,
    kernel_distance,
    spearman_interval,
)
from tests.fixtures.report_study import build_study_results


def test_frechet_distance_matches_the_matrix_square_root_formula():
    generator = np.random.default_rng(0)
    real, synthetic = generator.normal(size=(60, 8)), generator.normal(1.0, 2.0, size=(50, 8))
    covariance_real, covariance_synthetic = np.cov(real, rowvar=False), np.cov(synthetic, rowvar=False)
    root = linalg.sqrtm(covariance_real @ covariance_synthetic).real
    expected = (((real.mean(0) - synthetic.mean(0)) ** 2).sum() + np.trace(covariance_real)
                + np.trace(covariance_synthetic) - 2 * np.trace(root))
    assert frechet_distance(real, synthetic) == pytest.approx(expected, rel=1e-6)
    # fewer clips than dimensions (a class of a small dataset): still finite and exact
    assert frechet_distance(real[:5], real[:5]) == pytest.approx(0.0, abs=1e-9)
    # one real clip (a class with one test recording): a point, whose covariance is zero
    expected = ((real[0] - synthetic.mean(0)) ** 2).sum() + np.trace(covariance_synthetic)
    assert frechet_distance(real[:1], synthetic) == pytest.approx(expected, rel=1e-9)


def test_kernel_distance_is_unbiased_for_small_sets_and_grows_with_the_gap():
    generator = np.random.default_rng(1)
    same = [kernel_distance(generator.normal(size=(6, 4)), generator.normal(size=(8, 4))) for _ in range(400)]
    assert abs(np.mean(same)) < 0.01  # the biased estimate would sit clearly above zero with 6 and 8 clips
    near = kernel_distance(generator.normal(size=(20, 4)), generator.normal(0.3, 1, size=(20, 4)))
    far = kernel_distance(generator.normal(size=(20, 4)), generator.normal(3.0, 1, size=(20, 4)))
    assert far > near and far > 0.3


def test_detectability_is_chance_for_the_same_distribution_and_one_for_separate_ones():
    generator = np.random.default_rng(2)
    apart = detectability(generator.normal(size=(20, 5)), generator.normal(4.0, 1, size=(20, 5)), seed=0)
    alike = np.mean([detectability(generator.normal(size=(20, 5)), generator.normal(size=(20, 5)), seed=s)
                     for s in range(10)])
    assert apart > 0.95 and 0.3 < alike < 0.7
    assert np.isnan(detectability(generator.normal(size=(1, 5)), generator.normal(size=(5, 5)), seed=0))


def test_spearman_interval_brackets_a_monotone_relation():
    rho, low, high = spearman_interval(np.arange(12.0), -np.arange(12.0) ** 2 + 0.01, seed=0)
    assert rho == pytest.approx(-1.0) and low <= rho <= high <= -0.9
    rho, low, high = spearman_interval([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], seed=0)
    assert np.isnan(low)  # three classes give no interval worth printing


def test_report_shows_gap_against_precision_with_the_correlation(tmp_path):
    results = build_study_results(tmp_path, classes=6, real_per_class=2, synthetic_per_class=2)
    results.notes.append("clap embeddings (laion/clap-htsat-unfused): not in the Hugging Face cache")
    markdown, _ = write_report(results, tmp_path / "report")
    text = markdown.read_text()
    assert "## Domain gap vs zero-shot precision" in text and "## Domain gap per class" in text
    assert "Note: clap embeddings (laion/clap-htsat-unfused): not in the Hugging Face cache" in text
    # the fixture's gap falls with the class index and its precision rises: rho = -1 for gen_a
    assert "-1.00 [" in text
    assert (tmp_path / "report" / "domain_gap.png").is_file()
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'src="domain_gap.png"' in page and "Domain gap per class" in page
