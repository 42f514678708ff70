"""report/index.html: the report as one page to look at and listen to, beside report.md.

It shows every table the markdown report shows (built from the same DataFrames, so a column added to a table
appears in both), every plot, and a gallery: a few real test clips of each class beside the synthetic clips of
the same class, each synthetic clip with its prompt, generator, seed, filter scores and decision, and its
class's zero-shot precision and recall; sortable and filterable. Audio is copied beside the page as small Opus
files (media/), played by `<audio preload="none">` players, so nothing loads until played.

The page works from file://, offline: plain HTML, CSS and a little JavaScript written here, no request to any
server. Tables longer than LONG_TABLE rows that have a plot (the per-class precision heat map), and any table
twice as long, are folded away.
"""

import html
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthaudio.errors import SynthaudioError
from synthaudio.fsutil import write_text_atomic
from synthaudio.report import tables
from synthaudio.report.media import ClipMedia, clips_media
from synthaudio.report.results import StudyResults

LONG_TABLE = 20
MEDIA = "media"


@dataclass
class HtmlSection:
    """One section of the report as the markdown shows it: title, intro, shown table, its CSV and plot."""

    title: str
    intro: str
    table: pd.DataFrame
    csv: str
    image: str | None = None


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: Any, digits: int = 3) -> tuple[str, str]:
    """(shown text, sort key) of a table cell."""
    if value is None or (isinstance(value, float) and value != value):
        return "-", ""
    if isinstance(value, bool):
        return ("yes" if value else "no"), str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}f}", repr(value)
    return str(value), str(value)


def table_html(table: pd.DataFrame, table_id: str) -> str:
    """A sortable table (click a header) of a DataFrame."""
    if table.empty:
        return "<p><em>(no rows)</em></p>"
    head = "".join(f'<th scope="col" data-col="{i}">{_e(column)}</th>' for i, column in enumerate(table.columns))
    body = []
    for row in table.itertuples(index=False):
        cells = []
        for value in row:
            shown, key = _cell(value)
            cells.append(f'<td data-sort="{_e(key)}">{_e(shown)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="sortable" id="{_e(table_id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _anchor(title: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())


def write_html(results: StudyResults, folder: Path, sections: list[HtmlSection], header: list[str],
               study_root: Path, reuse_media: Path | None = None,
               extra_sections: list[Callable[[Path], str]] = ()) -> Path:
    """Write folder/index.html and folder/media/; returns the page. `header`: the markdown header paragraphs
    (protocol, warnings, notes) as plain text; `reuse_media`: an earlier report folder whose media are reused."""
    if reuse_media is not None and (reuse_media / MEDIA).is_dir():
        _link_tree(reuse_media / MEDIA, folder / MEDIA)
    parts = [f"<h1>Study: {_e(results.study)}</h1>"]
    parts += [f"<p>{_markdown_inline(paragraph)}</p>" for paragraph in header]
    toc = []
    body = []
    for index, section in enumerate(sections):
        anchor = _anchor(section.title)
        toc.append(f'<li><a href="#{anchor}">{_e(section.title)}</a></li>')
        body.append(f'<section id="{anchor}"><h2>{_e(section.title)}</h2>')
        if section.intro:
            body.append(f"<p>{_markdown_inline(section.intro)}</p>")
        if section.image:
            body.append(f'<figure><img src="{_e(section.image)}" alt="{_e(section.title)}" class="plot"></figure>')
        table = table_html(section.table, f"table-{index}")
        if len(section.table) > (LONG_TABLE if section.image else 2 * LONG_TABLE):
            table = f"<details><summary>the table ({len(section.table)} rows)</summary>{table}</details>"
        body.append(table)
        body.append(f'<p class="csv">Table: <a href="{_e(section.csv)}">{_e(section.csv)}</a></p></section>')
    for extra in extra_sections:
        body.append(extra(folder))
    confusions = sorted((folder / "confusion").glob("*.png")) if (folder / "confusion").is_dir() else []
    if confusions:
        toc.append('<li><a href="#confusion-matrices">Confusion matrices</a></li>')
        body.append('<section id="confusion-matrices"><h2>Confusion matrices</h2><p>Rows: true label; columns: '
                    "predicted; counts summed over seeds (clean real test split).</p><div class=\"confusions\">")
        for path in confusions:
            name = f"confusion/{path.name}"
            body.append(f'<figure><img src="{_e(name)}" alt="{_e(path.stem)}" class="plot" loading="lazy">'
                        f"<figcaption>{_e(path.stem)}</figcaption></figure>")
        body.append("</div></section>")
    gallery = gallery_html(results, folder, study_root)
    if gallery:
        toc.append('<li><a href="#gallery">Listen: real and synthetic clips per class</a></li>')
        body.append(gallery)
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Study {_e(results.study)}</title><style>{CSS}</style></head><body>"
            f"{''.join(parts)}<nav><ul>{''.join(toc)}</ul></nav>{''.join(body)}"
            f'<p class="files">Files: <a href="report.md">report.md</a>, <a href="results.csv">results.csv</a>, '
            f'<a href="results.json">results.json</a></p><script>{SCRIPT}</script></body></html>\n')
    write_text_atomic(folder / "index.html", page)
    return folder / "index.html"


def _markdown_inline(text: str) -> str:
    """Escape, then render the markdown the report's paragraphs use: **bold** and `code`."""
    escaped = _e(text)
    out, bold, code = [], False, False
    i = 0
    while i < len(escaped):
        if escaped.startswith("**", i) and not code:
            out.append("</strong>" if bold else "<strong>")
            bold, i = not bold, i + 2
        elif escaped[i] == "`":
            out.append("</code>" if code else "<code>")
            code, i = not code, i + 1
        else:
            out.append(escaped[i])
            i += 1
    if code:
        out.append("</code>")
    if bold:
        out.append("</strong>")
    return "".join(out)


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (else copy) every file of `source` into `target`: unchanged media are not converted again."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and not path.name.startswith("."):
            try:
                os.link(path, target / path.name)
            except OSError:
                shutil.copyfile(path, target / path.name)


# ---------------------------------------------------------------- gallery

def _class_scores(results: StudyResults) -> dict[tuple[str, str, str, str], tuple[float, float]]:
    """(dataset, generator, prompts, label) -> zero-shot (precision, recall), mean over seeds, of the largest
    clips-per-class run."""
    table = tables.per_class_precision_table(results)
    scores: dict[tuple[str, str, str, str], tuple[float, float]] = {}
    if table.empty:
        return scores
    for row in table.sort_values("clips_per_class").itertuples(index=False):
        scores[(row.dataset, row.generator, row.prompts, row.label)] = (row.precision, row.recall)
    return scores


def _resolve(path: str, study_root: Path) -> Path:
    return Path(path) if os.path.isabs(path) else study_root / path


def gallery_html(results: StudyResults, folder: Path, study_root: Path) -> str:
    datasets = (results.gallery or {}).get("datasets", [])
    if not datasets:
        return ""
    scores = _class_scores(results)
    parts = ['<section id="gallery"><h2>Listen: real and synthetic clips per class</h2>',
             "<p>A few real test clips of each class beside the synthetic clips of the same class. Each synthetic "
             "clip shows its prompt, generator, seed, the scores filters gave it and whether a filter dropped it; "
             "precision and recall are its class's zero-shot scores (a model trained on that generator's clips "
             "only, tested on the real test split; mean over seeds). Click a header to sort; the menus "
             "filter. Nothing loads until you press play.</p>"]
    wanted: dict[tuple[Path, float, float | None], ClipMedia | None] = {}
    for dataset in datasets:
        for clip in dataset["real"] + dataset["synthetic"]:
            path = _resolve(clip["path"], study_root)
            if not path.is_file():
                raise SynthaudioError(f"{path}: audio of clip '{clip['id']}' not found; the report's results.json "
                                      f"points at clips of the study folder {study_root}: rebuild the report there")
            wanted[(path, clip.get("offset") or 0.0, clip.get("duration"))] = None
    media = dict(zip(wanted, clips_media(list(wanted), folder), strict=True))
    for number, dataset in enumerate(datasets):
        parts.append(_dataset_gallery(dataset, number, study_root, scores, media))
    parts.append("</section>")
    return "".join(parts)


def _dataset_gallery(dataset: dict, number: int, study_root: Path, scores: dict, all_media: dict) -> str:
    name = dataset["dataset"]
    rows = []
    records = sorted([("0real", clip) for clip in dataset["real"]] +
                     [("1synthetic", clip) for clip in dataset["synthetic"]],
                     key=lambda item: (item[1]["label"], item[0], item[1].get("generator") or "",
                                       item[1].get("prompts") or "", item[1]["id"]))
    for source, clip in records:
        media = all_media[(_resolve(clip["path"], study_root), clip.get("offset") or 0.0, clip.get("duration"))]
        real = source == "0real"
        generator = "real" if real else clip["generator"]
        prompts = "-" if real else clip["prompts"]
        decision = "real" if real else clip["decision"]
        precision, recall = (None, None) if real else scores.get((name, clip["generator"], clip["prompts"],
                                                                   clip["label"]), (None, None))
        filters = "" if real else "<br>".join(
            f"{_e(item['filter'])}: {item['score']:.3f} ({'kept' if item['kept'] else 'dropped'})"
            for item in clip["filters"])
        best_score = None if real or not clip["filters"] else min(item["score"] for item in clip["filters"])
        cells = [
            ("class", clip["label"], clip["label"]),
            ("source", "real test clip" if real else "synthetic", source),
            ("generator", generator + (" (RANDOM WEIGHTS)" if clip.get("random_weights") else ""), generator),
            ("prompts", prompts, prompts),
            ("prompt", "" if real else clip.get("prompt") or "", ""),
            ("seed", "" if real else clip.get("seed"), "" if real else f"{clip.get('seed', 0):020d}"),
            ("precision", _num(precision), "" if precision is None else repr(precision)),
            ("recall", _num(recall), "" if recall is None else repr(recall)),
            ("filter score", filters, "" if best_score is None else repr(best_score)),
            ("decision", decision, decision),
        ]
        tds = "".join(f'<td class="{_e(kind.replace(" ", "-"))}" data-sort="{_e(key)}">'
                      f"{value if kind == 'filter score' else _e(value)}</td>" for kind, value, key in cells)
        player = (f'<td class="listen"><div class="player"><img src="{_e(media.thumbnail)}" '
                  f'alt="spectrogram of {_e(clip["id"])}" class="thumb" loading="lazy" width="96" height="64">'
                  f'<audio controls preload="none" src="{_e(media.audio)}" title="{_e(clip["id"])}"></audio>'
                  f"</div></td>")
        rows.append(f'<tr data-class="{_e(clip["label"])}" data-generator="{_e(generator)}" '
                    f'data-prompts="{_e(prompts)}" data-decision="{_e(decision)}">{tds}{player}</tr>')
    columns = ["class", "source", "generator", "prompts", "prompt", "seed", "precision", "recall", "filter score",
               "decision", "listen"]
    head = "".join(f'<th scope="col" data-col="{i}">{_e(c)}</th>' if c != "listen" else '<th scope="col">listen</th>'
                   for i, c in enumerate(columns))
    table_id = f"gallery-{number}"
    filters = []
    for key, title, values in (
            ("class", "class", sorted({clip["label"] for clip in dataset["real"] + dataset["synthetic"]})),
            ("generator", "generator", ["real"] + sorted({clip["generator"] for clip in dataset["synthetic"]})),
            ("prompts", "prompt strategy", sorted({clip["prompts"] for clip in dataset["synthetic"]})),
            ("decision", "filter decision", ["real"] + sorted({clip["decision"] for clip in dataset["synthetic"]}))):
        options = "".join(f'<option value="{_e(value)}">{_e(value)}</option>' for value in values)
        filters.append(f'<label>{_e(title)} <select data-filter="{key}" data-table="{table_id}">'
                       f'<option value="">all</option>{options}</select></label>')
    return (f'<h3>{_e(name)}</h3><div class="filters" id="{table_id}-filters">{"".join(filters)} '
            f'<span class="count" id="{table_id}-count"></span></div>'
            f'<table class="sortable gallery" id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;
color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:middle}
th[data-col]{cursor:pointer;background:#f4f4f4;user-select:none}
th[data-col]:hover{background:#e8e8e8}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
img.plot{max-width:100%;height:auto}
.confusions{display:flex;flex-wrap:wrap;gap:1em}.confusions img{max-width:380px}
.filters{margin:.5em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
td.listen{white-space:nowrap}
div.player{content-visibility:auto;contain-intrinsic-size:340px 64px}
td.listen img{vertical-align:middle;margin-right:.4em}
td.listen audio{vertical-align:middle;height:2em;width:220px}
td.prompt{max-width:22em}td.filter-score{font-size:.85em}
tr[data-decision="dropped"] td.decision{color:#b00;font-weight:bold}
tr[data-decision="real"]{background:#f3f8ff}
.count{color:#555}
"""
# div.player: the browser lays out only the players on screen, which halves the time a page of 2000 clips takes to
# open (each <audio controls> is a small document of its own)

SCRIPT = """
(function(){
  function key(cell){ var v = cell.getAttribute('data-sort'); return v === null ? cell.textContent : v; }
  function compare(a, b){
    var x = parseFloat(a), y = parseFloat(b);
    if (a !== '' && b !== '' && !isNaN(x) && !isNaN(y) && String(x) !== 'NaN') { return x - y; }
    if (a === '' && b !== '') { return 1; }
    if (b === '' && a !== '') { return -1; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th[data-col]').forEach(function(th){
      th.addEventListener('click', function(){
        var col = parseInt(th.getAttribute('data-col'), 10);
        var ascending = !th.classList.contains('asc');
        table.querySelectorAll('th').forEach(function(h){ h.classList.remove('asc', 'desc'); });
        th.classList.add(ascending ? 'asc' : 'desc');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(r, s){
          var c = compare(key(r.cells[col]), key(s.cells[col]));
          return ascending ? c : -c;
        });
        rows.forEach(function(row){ body.appendChild(row); });
      });
    });
  });
  function applyFilters(tableId){
    var table = document.getElementById(tableId);
    var selects = document.querySelectorAll('select[data-table="' + tableId + '"]');
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function(row){
      var visible = true;
      selects.forEach(function(select){
        var want = select.value, name = select.getAttribute('data-filter');
        if (!want) { return; }
        var real = row.getAttribute('data-generator') === 'real';
        // real clips stay beside the synthetic ones a generator or prompt filter picks; they are hidden by a
        // class filter, and by a decision filter other than 'real' (a filter decides only synthetic clips)
        if (name === 'class' || !real) { visible = visible && row.getAttribute('data-' + name) === want; }
        else if (name === 'decision') { visible = visible && want === 'real'; }
      });
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    document.getElementById(tableId + '-count').textContent = shown + ' of ' + table.tBodies[0].rows.length +
      ' clips shown';
  }
  var tables = {};
  document.querySelectorAll('select[data-table]').forEach(function(select){
    var id = select.getAttribute('data-table');
    tables[id] = true;
    select.addEventListener('change', function(){ applyFilters(id); });
  });
  Object.keys(tables).forEach(applyFilters);
})();
"""
