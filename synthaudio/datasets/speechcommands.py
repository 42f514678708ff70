"""Speech Commands v0.02 (Warden 2018): 105,829 one-second utterances of 35 words, 16 kHz.

Official data: http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz (CC BY 4.0). ROOT is the
unpacked archive:

    <word>/<speaker>_nohash_<n>.wav     35 word folders (yes, no, up, ..., backward, follow, forward, learn, visual)
    validation_list.txt, testing_list.txt   one "<word>/<file>.wav" per line
    _background_noise_/*.wav            6 long noise recordings (white_noise, running_tap, ...)

Protocol: files named in testing_list.txt are the test split, those in validation_list.txt the validation split,
all other files train (the official lists split by speaker). The label is the word folder's name. The duration
is measured (most clips are 1 s, some shorter). The background noise goes to a separate noise manifest, one row
per recording, label = file stem, split "test": the study corrupts the test set with this real noise at fixed
SNRs, while training is augmented with (synthetic) noise from elsewhere; keeping the real noise out of training
keeps that test honest.
"""

from pathlib import Path

from synthaudio.datasets.common import (
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    audio_files,
    dataset_root,
    is_hidden,
    progress,
    real_clip,
    require,
    require_clips,
    sorted_clips,
)

NAME = "speechcommands"
NOISE_FOLDER = "_background_noise_"
LAYOUT = ("<word>/<speaker>_nohash_<n>.wav folders, validation_list.txt, testing_list.txt and _background_noise_/ "
          "(speech_commands_v0.02.tar.gz from download.tensorflow.org/data)")


def read_list(path: Path) -> set[str]:
    """The relative paths named in an official list file."""
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def prepare_speechcommands(root: Path | str, seed: int = 0, on_error: OnError = "stop",
                           verify: bool = False) -> PreparedDataset:
    """Keyword clips split by the official lists, and the background noise as extra manifest "noise".

    `seed` is accepted for a uniform interface; the official lists leave nothing random.
    """
    root = dataset_root(root, "Speech Commands", LAYOUT)
    listed = {"val": read_list(require(root, "validation_list.txt", "Speech Commands", LAYOUT)),
              "test": read_list(require(root, "testing_list.txt", "Speech Commands", LAYOUT))}
    noise_folder = require(root, NOISE_FOLDER, "Speech Commands", LAYOUT, folder=True)
    words = sorted(p for p in root.iterdir() if p.is_dir() and not is_hidden(p.name) and not p.name.startswith("_"))
    files = [path for word in words for path in audio_files(word, recursive=False, extensions=(".wav",))]
    probe = FileProbe(on_error, verify)
    found = {path.relative_to(root).as_posix() for path in files}
    for split, names in listed.items():
        list_name = "validation_list.txt" if split == "val" else "testing_list.txt"
        for name in sorted(names - found):
            probe.bad(root / name, f"listed in {list_name} but missing")
    clips = []
    for path in progress(files, "Speech Commands", total=len(files)):
        measured = probe.measure(path)
        if measured is None:
            continue
        relative = path.relative_to(root).as_posix()
        split = "test" if relative in listed["test"] else "val" if relative in listed["val"] else "train"
        word = path.parent.name
        clips.append(real_clip(f"{NAME}/{word}/{path.stem}", path, word, split, None, *measured,
                               meta={"speaker": path.stem.split("_nohash_")[0]},
                               group=f"{NAME}/{path.stem.split('_nohash_')[0]}"))
    noise = []
    for path in audio_files(noise_folder, recursive=False, extensions=(".wav",)):
        measured = probe.measure(path)
        if measured is not None:
            noise.append(real_clip(f"{NAME}/{NOISE_FOLDER}/{path.stem}", path, path.stem, "test", None, *measured,
                                   meta={"role": "background_noise"}))
    return PreparedDataset(NAME, require_clips(clips, "Speech Commands", root, probe.problems),
                           extra={"noise": sorted_clips(noise)}, problems=probe.problems)


RECIPE = Recipe(prepare_speechcommands, domain="speech", extras=('noise',))
