"""The HTML report in a real browser (headless chromium): it loads from file:// without errors or network
requests, every image shows, every clip plays, and sorting and filtering change what is shown."""

import pytest

from synthaudio.report import write_report
from tests.fixtures.report_study import build_study_results
from tests.report.browser import check_page_offline, open_page

pytestmark = pytest.mark.slow

CLASSES, REAL, SYNTHETIC, GENERATORS = 3, 2, 3, ("gen_a", "gen_b")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    results = build_study_results(out, CLASSES, REAL, SYNTHETIC, GENERATORS)
    markdown, _ = write_report(results, out / "report")
    return markdown.with_name("index.html")


def visible_rows(page, table="#gallery-0"):
    return page.eval_on_selector_all(
        f"{table} tbody tr", "rows => rows.filter(r => !r.hidden).map(r => [r.dataset.class, r.dataset.generator, "
                             "r.dataset.decision, r.querySelector('td.precision').textContent])")


def test_page_loads_offline_with_every_image_and_clip(report_page):
    check_page_offline(report_page, clips=CLASSES * (REAL + SYNTHETIC * len(GENERATORS)))


def test_gallery_filters_and_sorts(report_page):
    with open_page(report_page.as_uri()) as (page, log):
        everything = CLASSES * (REAL + SYNTHETIC * len(GENERATORS))
        assert len(visible_rows(page)) == everything
        assert page.locator("#gallery-0-count").text_content() == f"{everything} of {everything} clips shown"

        page.select_option('select[data-filter="class"]', "class_01")
        rows = visible_rows(page)
        assert {row[0] for row in rows} == {"class_01"} and len(rows) == REAL + SYNTHETIC * len(GENERATORS)
        # the real clips of the class sit beside its synthetic ones
        assert [row[1] for row in rows[:REAL]] == ["real"] * REAL

        page.select_option('select[data-filter="generator"]', "gen_b")
        rows = visible_rows(page)
        assert sorted({row[1] for row in rows}) == ["gen_b", "real"] and len(rows) == REAL + SYNTHETIC

        page.select_option('select[data-filter="class"]', "")
        page.select_option('select[data-filter="generator"]', "")
        page.select_option('select[data-filter="decision"]', "dropped")
        rows = visible_rows(page)
        # the clip filter (0.5) drops classes 0 of both generators; the class filter class 0 of gen_a
        assert {(row[0], row[2]) for row in rows} == {("class_00", "dropped")}
        assert len(rows) == SYNTHETIC * len(GENERATORS)
        page.select_option('select[data-filter="decision"]', "kept")
        assert {row[0] for row in visible_rows(page)} == {"class_01", "class_02"}
        page.select_option('select[data-filter="decision"]', "")

        header = page.locator("#gallery-0 th", has_text="precision").first
        header.click()
        ascending = [float(row[3]) for row in visible_rows(page) if row[3]]
        assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
        header.click()
        descending = [float(row[3]) for row in visible_rows(page) if row[3]]
        assert descending == sorted(ascending, reverse=True)
        page.locator("#gallery-0 th", has_text="class").first.click()
        classes = [row[0] for row in visible_rows(page)]
        assert classes == sorted(classes) and classes[0] == "class_00"
        assert log.console_errors == [] and log.refused == []


def test_tables_sort_by_number(report_page):
    with open_page(report_page.as_uri()) as (page, log):
        table = page.locator("section#zero-shot-trained-on-synthetic-clips-only table")
        column = [text.strip() for text in table.locator("th").all_text_contents()].index("accuracy")

        def accuracies():
            return [float(text.split()[0]) for text in
                    table.locator(f"tbody tr td:nth-child({column + 1})").all_text_contents()]

        table.locator("th").nth(column).click()
        assert accuracies() == sorted(accuracies())
        table.locator("th").nth(column).click()
        assert accuracies() == sorted(accuracies(), reverse=True)
        assert len(set(accuracies())) > 1
        assert log.console_errors == []
