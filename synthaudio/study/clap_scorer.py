"""The `clap` clip scorer for the clip-level filter: how much a synthetic clip sounds like its own label's caption
to CLAP (laion/clap-htsat-unfused through transformers' ClapModel), as Synthio filters its clips.

Options (study file: `clip_filter: {scorer: clap, threshold: 0.3, options: {...}}`):
  checkpoint  a Hugging Face id in the local cache, or a folder (default laion/clap-htsat-unfused); never downloaded
  caption     the caption of a label, with {label} (default "the sound of {label}"; underscores become spaces)
  score       probability (default): CLAP's zero-shot probability of the clip's own caption among every label's
              caption, in [0, 1] like real_model's; similarity: (cosine of audio and caption + 1) / 2
Audio embeddings are cached by audio content (synthaudio.recognition.embeddings), so rescoring is cheap.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaudio.manifest import read_manifest
from synthaudio.recognition.embeddings import (
    CLAP_CHECKPOINT,
    EncoderUnavailable,
    checkpoint_identity,
    clap_caption_scores,
    resolve_checkpoint,
)

OPTIONS = ("checkpoint", "caption", "score")
SCORES = ("probability", "similarity")


@dataclass(frozen=True)
class ClapScoring:
    checkpoint: str
    weights: str  # what identifies the checkpoint's files
    captions: dict[str, str]
    score_kind: str
    cache_dir: Path

    def identity(self) -> dict[str, Any]:
        return {"weights": self.weights, "captions": self.captions, "score": self.score_kind}

    def score(self, manifest: Path) -> dict[str, float]:
        return clap_caption_scores(read_manifest(manifest), self.captions, self.checkpoint, self.cache_dir,
                                   self.score_kind)


class ClapScorer:
    """CLAP's text-audio agreement between each clip and its label's caption."""

    name = "clap"

    def plan(self, ctx, experiment, dataset, fraction, seed, options):
        where = ("experiments", experiment, "clip_filter", "options")
        for key in options:
            if key not in OPTIONS:
                raise ctx.config.error(where + (key,), f"unknown option of scorer 'clap' (its options: "
                                                       f"{', '.join(OPTIONS)})")
        checkpoint = str(options.get("checkpoint", CLAP_CHECKPOINT))
        caption = str(options.get("caption", "the sound of {label}"))
        score_kind = str(options.get("score", "probability"))
        if "{label}" not in caption:
            raise ctx.config.error(where + ("caption",), f"'{caption}' has no {{label}} to put the label in, e.g. "
                                                         f"'the sound of {{label}}'")
        if score_kind not in SCORES:
            raise ctx.config.error(where + ("score",), f"'{score_kind}' is not a score of scorer 'clap' (one of: "
                                                       f"{', '.join(SCORES)})")
        try:
            folder = resolve_checkpoint(checkpoint)
        except EncoderUnavailable as error:
            raise ctx.config.error(where + ("checkpoint",), f"{error}, or filter with scorer real_model") from None
        captions = {label: caption.format(label=label.replace("_", " ")) for label in ctx.prepared[dataset].labels}
        return ClapScoring(checkpoint, checkpoint_identity(folder), captions, score_kind, ctx.cache_dir), ()
