"""Building the HTML report (synthaudio.report.write_report: report.md, tables, plots, index.html with every clip
as Opus plus a spectrogram thumbnail) vs copying the same clips' raw WAVs into a folder, for a study of
`--classes` classes with `--real` real and `--synthetic` synthetic clips per class (`--seconds` s each, 16 kHz,
synthesised: tones with noise; hand-made results from tests/fixtures/report_study.py). Every clip is in the
gallery here, the worst case (a study shows a few per class).

Last line: `ratio: X.X` = report build time / raw copy time. The targets: the report in under 60 s on 2 cores, and
the page open in a browser in under 2 s (measured with headless chromium where it is installed).
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthaudio.report import write_report  # noqa: E402
from tests.fixtures.report_study import build_study_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--synthetic", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synthaudio-html-bench-") as folder:
        out = Path(folder) / "study"
        results = build_study_results(out, arguments.classes, arguments.real, arguments.synthetic,
                                      generators=("gen_a",), seconds=arguments.seconds)
        clips = [clip for dataset in results.gallery["datasets"] for clip in dataset["real"] + dataset["synthetic"]]
        wav_bytes = 0
        started = time.perf_counter()
        copies = Path(folder) / "raw-copy"
        copies.mkdir()
        for number, clip in enumerate(clips):
            source = Path(clip["path"]) if Path(clip["path"]).is_absolute() else out / clip["path"]
            shutil.copyfile(source, copies / f"{number}.wav")
            wav_bytes += source.stat().st_size
        copy_seconds = time.perf_counter() - started
        started = time.perf_counter()
        markdown, _ = write_report(results, out / "report")
        report_seconds = time.perf_counter() - started
        media = markdown.parent / "media"
        media_bytes = sum(path.stat().st_size for path in media.iterdir())
        page_bytes = markdown.with_name("index.html").stat().st_size
        print(f"clips: {len(clips)} ({arguments.classes} classes x ({arguments.real} real + {arguments.synthetic} "
              f"synthetic), {arguments.seconds:g} s each)")
        print(f"copy raw WAVs: {copy_seconds:.2f} s, {wav_bytes / 1e6:.1f} MB")
        print(f"HTML report:   {report_seconds:.2f} s, media {media_bytes / 1e6:.1f} MB "
              f"({media_bytes / wav_bytes:.2f} of the WAVs), index.html {page_bytes / 1e6:.2f} MB")
        print(f"under 60 s: {'yes' if report_seconds < 60 else 'NO'}")
        print(f"page opened in the browser: {_open_seconds(markdown.with_name('index.html'))}")
        print(f"ratio: {report_seconds / copy_seconds:.1f}")


def _open_seconds(page: Path) -> str:
    """Seconds until headless chromium fires `load` on the page (thumbnails lazy, audio not loaded)."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "not measured (playwright is not installed)"
    if not chromium.exists():
        return f"not measured ({chromium} is not installed)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            tab = browser.new_page()
            started = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            seconds = time.perf_counter() - started
            loaded = tab.evaluate("Array.from(document.querySelectorAll('audio')).filter(a => a.readyState > 0)"
                                  ".length")
        finally:
            browser.close()
    return f"{seconds:.2f} s ({loaded} audio files loaded before play)"


if __name__ == "__main__":
    main()
