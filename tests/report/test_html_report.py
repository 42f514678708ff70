"""The HTML report without a browser: what the page holds, how it escapes what generators and LLMs wrote, that a
rebuild converts no clip twice, and the errors of `synthaudio report`."""

import json

import pytest
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.errors import SynthaudioError
from synthaudio.report import media, rebuild_report, write_report
from tests.fixtures.report_study import build_study_results


def test_page_holds_every_table_plot_and_clip_with_its_provenance(tmp_path):
    results = build_study_results(tmp_path, classes=2, real_per_class=1, synthetic_per_class=2)
    markdown, _ = write_report(results, tmp_path / "report")
    page = markdown.with_name("index.html").read_text()
    for title in ("Datasets", "Zero-shot: trained on synthetic clips only", "Zero-shot precision per class",
                  "Domain gap vs zero-shot precision", "Confusion matrices", "Listen: real and synthetic clips"):
        assert title in page, title
    assert 'src="per_class_precision.png"' in page and 'src="zero_shot_accuracy.png"' in page
    assert page.count('<audio controls preload="none"') == 2 * (1 + 2 * 2)
    assert "the sound of class 01 &lt;1&gt;" in page  # the prompt, escaped
    assert "clip filter real_model &gt;= 0.5 (0.5 real, seed 0): 0.333 (dropped)" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch from anywhere
    sizes = [path.stat().st_size for path in (tmp_path / "report" / "media").glob("*.opus")]
    assert len(sizes) == 2 * (1 + 2 * 2) and max(sizes) < 8000  # 1 s of 16-bit WAV is 32 kB


def test_text_from_generators_cannot_inject_markup(tmp_path):
    results = build_study_results(tmp_path, classes=1, real_per_class=1, synthetic_per_class=1, generators=("g",))
    results.gallery["datasets"][0]["synthetic"][0]["prompt"] = '<script>alert("x")</script>"><img src=x>'
    markdown, _ = write_report(results, tmp_path / "report")
    page = markdown.with_name("index.html").read_text()
    assert "<script>alert" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_rebuild_converts_no_clip_again(tmp_path, monkeypatch):
    results = build_study_results(tmp_path, classes=2, real_per_class=1, synthetic_per_class=1)
    write_report(results, tmp_path / "report")

    def no_encoding(*args):
        raise AssertionError("a clip was encoded again")

    monkeypatch.setattr(media, "write_opus", no_encoding)
    markdown, _ = rebuild_report(tmp_path / "report" / "results.json")
    assert markdown.with_name("index.html").is_file() and len(list((tmp_path / "report" / "media").iterdir())) == 12


def test_a_moved_clip_is_one_clear_error(tmp_path):
    results = build_study_results(tmp_path, classes=1, real_per_class=1, synthetic_per_class=1, generators=("g",))
    (tmp_path / results.gallery["datasets"][0]["synthetic"][0]["path"]).unlink()
    with pytest.raises(SynthaudioError, match=r"0\.wav: audio of clip 'g-class_00-0' not found; .* rebuild the "
                                              r"report there"):
        write_report(results, tmp_path / "report")


def test_report_command_rebuilds_the_page_and_names_a_missing_results_file(tmp_path):
    results = build_study_results(tmp_path, classes=1, real_per_class=1, synthetic_per_class=1, generators=("g",))
    write_report(results, tmp_path / "report")
    (tmp_path / "report" / "index.html").unlink()
    done = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "report" / "index.html").is_file() and "index.html" in done.output
    assert json.loads((tmp_path / "report" / "results.json").read_text())["gallery"]
    with pytest.raises(SynthaudioError, match=r"elsewhere/report/results\.json: not found; OUT_DIR must be a study "
                                              r"output folder"):
        CliRunner().invoke(app, ["report", str(tmp_path / "elsewhere")], catch_exceptions=False)
