"""`synthaudio prepare DATASET`: a real dataset's official layout -> a clip manifest (see synthaudio.datasets)."""

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("prepare")(prepare)


def prepare(
    dataset: str = typer.Argument(..., help="esc50, gtzan, speechcommands, iemocap, ucf101, activitynet, folder, "
                                            "asterisk or qabcs."),
    root: Path = typer.Option(..., "--root", help="The dataset folder in its official layout."),
    out: Path = typer.Option(..., "--out", help="The clip manifest to write (.jsonl)."),
    on_error: str = typer.Option("stop", "--on-error",
                                 help="stop: the first bad file is an error and nothing is written; "
                                      "skip: bad files are skipped and listed at the end."),
    seed: int = typer.Option(0, "--seed", help="Seed of the validation/test splits."),
    test_fold: int | None = typer.Option(None, "--test-fold",
                                         help="esc50: fold 1-5 (default 1); iemocap: session 1-5 (default 5)."),
    val_fraction: float | None = typer.Option(None, "--val-fraction",
                                              help="Share of each class carved from the training pool as "
                                                   "validation (esc50 0.125, iemocap/ucf101/activitynet 0.1)."),
    segment: str | None = typer.Option(None, "--segment",
                                       help="gtzan: START:END seconds of each track (default 10:20) or 'full'."),
    classes: str | None = typer.Option(None, "--classes",
                                       help="ucf101: comma-separated class names (default: the study's 20)."),
    split_list: int | None = typer.Option(None, "--split-list", help="ucf101: official split 1, 2 or 3 (default 1)."),
    annotations: Path | None = typer.Option(None, "--annotations",
                                            help="activitynet: the annotations JSON (default "
                                                 "ROOT/activity_net.v1-3.min.json)."),
    fractions: str | None = typer.Option(None, "--fractions",
                                         help="gtzan, folder: train,val,test fractions (default 0.8,0.1,0.1)."),
    all_split: str | None = typer.Option(None, "--all-split",
                                         help="folder: put every clip in this split (train, val or test)."),
    group_level: int | None = typer.Option(None, "--group-level",
                                           help="folder: the group (speaker, recording) is the sub-folder this many "
                                                "levels below the class folder (1: <class>/<speaker>/<file>)."),
    group_pattern: str | None = typer.Option(None, "--group-pattern",
                                             help="folder: a regular expression on the file name; its group named "
                                                  "'group' (or first group) is the clip's group, e.g. '^([^_]+)_'."),
    kind: str | None = typer.Option(None, "--kind",
                                    help="asterisk: digits (0-9 as zero ... nine, all test; default), letters (a ... "
                                         "z), phonetic (alpha ... zulu) or babble (the sentence prompts as noise, "
                                         "two disjoint halves: train and test)."),
    voices: str | None = typer.Option(None, "--voices",
                                      help="asterisk: comma-separated voice folders under --root (default: --root "
                                           "is the voice folder)."),
    val_voices: str | None = typer.Option(None, "--val-voices",
                                          help="asterisk: comma-separated voices (of --voices) whose words form a "
                                               "val split of other speakers instead of test."),
    audio_format: str | None = typer.Option(None, "--audio-format",
                                            help="asterisk: wav, gsm, g722 or auto (default: per recording the "
                                                 "first of wav, gsm, g722 that exists)."),
    noise_out: Path | None = typer.Option(None, "--noise-out",
                                          help="speechcommands: the background-noise manifest (default "
                                               "<out stem>.noise.jsonl beside --out)."),
    verify: bool = typer.Option(False, "--verify", help="Also decode every clip (slow) to catch corrupt audio now."),
) -> None:
    """Write a clip manifest for a real dataset in its official layout; bad files stop the run or are listed."""
    from synthaudio.datasets import extra_manifest_paths, get_recipe, prepare_dataset, summary_lines, write_prepared
    from synthaudio.datasets.gtzan import parse_segment

    get_recipe(dataset)  # an unknown name is the first thing to report
    given = {"test_fold": test_fold, "val_fraction": val_fraction,
             "segment": parse_segment(segment) if segment is not None else None, "split_list": split_list,
             "classes": [name.strip() for name in classes.split(",") if name.strip()] if classes is not None else None,
             "annotations": annotations, "fractions": fractions, "all_split": all_split, "kind": kind,
             "voices": voices, "val_voices": val_voices, "audio_format": audio_format,
             "group_level": group_level, "group_pattern": group_pattern}
    options = {name: value for name, value in given.items() if value is not None}
    if segment is not None and segment.strip().lower() == "full":
        options["segment"] = None  # 'full' is an explicit choice, not an absent option
    extra_paths = extra_manifest_paths(dataset, out, {"noise": noise_out})
    prepared = prepare_dataset(dataset, root, seed=seed, on_error=on_error, verify=verify, **options)
    written = write_prepared(prepared, out, extra_paths)
    for line in summary_lines(prepared, written):
        typer.echo(line)
