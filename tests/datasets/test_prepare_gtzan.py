from collections import Counter

import pytest

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_gtzan

GENRES = ("blues", "jazz", "rock")
RATE = 2000  # keeps the 30-s tracks small; the recipe reads the native rate from the files


@pytest.fixture(scope="module")
def gtzan_root(tmp_path_factory):
    return make_gtzan(tmp_path_factory.mktemp("gtzan"), genres=GENRES, sample_rate=RATE)


def test_the_unreadable_jazz_track_stops_the_run_naming_it_and_the_remedy(gtzan_root):
    with pytest.raises(DatasetError) as caught:
        prepare_dataset("gtzan", gtzan_root)
    message = str(caught.value)
    assert message.startswith(f"{gtzan_root / 'genres' / 'jazz' / 'jazz.00054.wav'}: not a readable audio or video")
    assert "jazz.00054.wav is a known unreadable file of the GTZAN release" in message
    assert "--on-error skip" in message and "\n" not in message


def test_study_segment_and_stratified_split_with_the_bad_track_skipped_and_listed(gtzan_root):
    prepared = prepare_dataset("gtzan", gtzan_root, on_error="skip")
    assert [(p.path, p.kind) for p in prepared.problems] == [(str(gtzan_root / "genres/jazz/jazz.00054.wav"), "bad")]
    clips = prepared.clips
    assert len(clips) == 30 and {c.label for c in clips} == set(GENRES)
    assert all(c.offset == 10.0 and c.duration == 10.0 and c.sample_rate == RATE and c.fold is None for c in clips)
    assert clips[0].id == "gtzan/blues.00000:10-20"
    assert Counter((c.label, c.split) for c in clips) == {(g, s): n for g in GENRES
                                                         for s, n in (("train", 8), ("val", 1), ("test", 1))}


def test_whole_tracks_and_clamped_segments(gtzan_root):
    full = prepare_dataset("gtzan", gtzan_root, on_error="skip", segment=None).clips
    assert all(c.offset == 0 and c.duration == 30.0 for c in full) and full[0].id == "gtzan/blues.00000"
    late = prepare_dataset("gtzan", gtzan_root, on_error="skip", segment=(25, 35)).clips
    assert all(c.offset == 25.0 and c.duration == 5.0 for c in late)  # the tracks end at 30 s
    with pytest.raises(DatasetError, match=r"blues.00000.wav: is 30.00 s long, shorter than the segment start "
                                           r"\(40 s\); fix or remove it, or rerun with --on-error skip"):
        prepare_dataset("gtzan", gtzan_root, on_error="stop", segment=(40, 50))
    with pytest.raises(ConfigError, match="--segment needs 0 <= START < END, got 20:10"):
        prepare_dataset("gtzan", gtzan_root, segment=(20, 10))


def test_determinism_and_reading_back(gtzan_root, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("gtzan", gtzan_root, on_error="skip", seed=3), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    clips = read_manifest(tmp_path / "a.jsonl")
    assert len(clips) == 30 and clips[0].offset == 10.0

    def test_ids(seed):
        return {c.id for c in prepare_dataset("gtzan", gtzan_root, on_error="skip", seed=seed).clips
                if c.split == "test"}

    assert any(test_ids(seed) != test_ids(3) for seed in range(4))


def test_kaggle_and_original_layouts_ignore_appledouble_files(tmp_path):
    kaggle = make_gtzan(tmp_path / "k", genres=("jazz", "pop"), tracks_per_genre=3, seconds=21, sample_rate=RATE,
                        layout="Data/genres_original", corrupt=False, apple_double=True)
    clips = prepare_dataset("gtzan", kaggle, fractions="0.34,0.33,0.33").clips
    assert len(clips) == 6 and all(c.path.endswith(".wav") and "/._" not in c.path for c in clips)
    original = make_gtzan(tmp_path / "o", genres=("pop",), tracks_per_genre=3, seconds=21, sample_rate=RATE,
                          extension=".au", corrupt=False)
    clips = prepare_dataset("gtzan", original, fractions=(1, 0, 0)).clips
    assert [c.id for c in clips] == [f"gtzan/pop.0000{i}:10-20" for i in range(3)]
    assert all(c.split == "train" and c.duration == 10.0 for c in clips)


@pytest.mark.parametrize("fractions, message", [
    ("0.5,0.5", "--fractions must be three numbers train,val,test such as 0.8,0.1,0.1; got 0.5,0.5"),
    ("0.7,0.2,0.2", r"--fractions must be >= 0 and sum to 1; got 0.7,0.2,0.2 \(sum 1.1\)"),
    ("a,b,c", "--fractions must be three numbers train,val,test such as 0.8,0.1,0.1; got 'a,b,c'"),
    ("0,0.5,0.5", "--fractions: the train fraction must be > 0; got 0,0.5,0.5"),
])
def test_bad_fractions(gtzan_root, fractions, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        prepare_dataset("gtzan", gtzan_root, fractions=fractions)


def test_wrong_root(tmp_path):
    with pytest.raises(DatasetError, match=r"no genres/ \(or genres_original/\) folder; this is not the GTZAN "
                                           r"layout, expected genres/<genre>/<genre>.000NN.au\|wav"):
        prepare_dataset("gtzan", tmp_path)


def test_group_is_the_track_so_segments_of_one_track_share_it(gtzan_root):
    clips = prepare_dataset("gtzan", gtzan_root, on_error="skip").clips
    assert all(clip.group == "gtzan/" + clip.path.rsplit("/", 1)[1].removesuffix(".wav") for clip in clips)
    assert len({clip.group for clip in clips}) == len(clips)  # one default segment per track
