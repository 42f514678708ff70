import json

import pytest

from synthaudio.errors import ManifestError
from synthaudio.manifest import Clip, read_manifest, write_manifest


def _row(**changes):
    row = {"id": "a1", "path": "audio/a1.wav", "label": "dog", "split": "train", "fold": 1, "source": "real",
           "duration": 1.0, "sample_rate": 16000}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


@pytest.fixture
def dataset(tmp_path, write_tone):
    write_tone("data/audio/a1.wav")
    write_tone("data/audio/a2.wav")
    return tmp_path / "data"


def _write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_round_trip_keeps_paths_relative_to_the_manifest(dataset):
    manifest = _write_rows(dataset / "m.jsonl", [_row(), _row(id="a2", path="audio/a2.wav", split="test", fold=None)])
    clips = read_manifest(manifest)
    assert clips[0].path == str(dataset / "audio" / "a1.wav")  # absolute in memory
    out = dataset / "copy.jsonl"
    write_manifest(out, clips)
    assert json.loads(out.read_text().splitlines()[0])["path"] == "audio/a1.wav"
    assert json.loads(out.read_text().splitlines()[1])["fold"] is None
    assert read_manifest(out) == clips


def test_manifest_outside_the_data_gets_absolute_paths(dataset, tmp_path):
    clips = read_manifest(_write_rows(dataset / "m.jsonl", [_row()]))
    out = tmp_path / "elsewhere" / "m.jsonl"
    write_manifest(out, clips)
    assert json.loads(out.read_text())["path"] == str((dataset / "audio" / "a1.wav").resolve())
    assert read_manifest(out)[0].path == clips[0].path


@pytest.mark.parametrize("row, message", [
    (_row(label=...), r"m.jsonl:2: missing field 'label'"),
    (_row(colour="red"), r"m.jsonl:2: unknown field 'colour'"),
    (_row(duration="5"), r"m.jsonl:2: field 'duration'"),
    (_row(sample_rate=16000.5), r"m.jsonl:2: field 'sample_rate'"),
    (_row(split="training"), r"m.jsonl:2: field 'split'"),
    (_row(source="synthetic"), r"m.jsonl:2: .*lacks provenance field\(s\): generator, checkpoint, prompt"),
    (_row(id="a1"), r"m.jsonl:2: duplicate id 'a1' \(first on line 1\)"),
    (_row(id="a3", path="audio/missing.wav"), r"m.jsonl:2: file not found: .*missing.wav"),
])
def test_bad_rows_name_manifest_and_line(dataset, row, message):
    manifest = _write_rows(dataset / "m.jsonl", [_row(), row])
    with pytest.raises(ManifestError, match=message):
        read_manifest(manifest)


def test_bad_json_and_missing_manifest(dataset):
    manifest = dataset / "m.jsonl"
    manifest.write_text(json.dumps(_row()) + "\n{not json\n")
    with pytest.raises(ManifestError, match=r"m.jsonl:2: not valid JSON"):
        read_manifest(manifest)
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(dataset / "nope.jsonl")


def test_synthetic_rows_carry_provenance(dataset):
    row = _row(source="synthetic", generator="audioldm2", checkpoint="cvssp/audioldm2-large", prompt="dog sound",
               strategy="label", seed=7, meta={"steps": 50})
    clip = read_manifest(_write_rows(dataset / "m.jsonl", [row]))[0]
    assert (clip.generator, clip.seed, clip.meta, clip.random_weights) == ("audioldm2", 7, {"steps": 50}, False)


def test_write_refuses_duplicates_and_leaves_no_partial_file(tmp_path):
    clip = Clip(id="x", path="/a.wav", label="l", split="train", fold=None, source="real", duration=1.0,
                sample_rate=8000)
    with pytest.raises(ManifestError, match="duplicate id 'x'"):
        write_manifest(tmp_path / "m.jsonl", [clip, clip])
    assert list(tmp_path.iterdir()) == []
