"""Clip embeddings for measuring how far synthetic clips lie from real ones: a trained run's penultimate layer
(always available, offline), and pretrained audio encoders found in the Hugging Face cache: CLAP's audio tower
(`laion/clap-htsat-unfused` through transformers' ClapModel) and the Whisper encoder (mean over the frames
that hold audio).

Embeddings are cached on disk by audio content like features (synthaudio.recognition.feature_cache): the key is
the clip's audio sha256 and segment, the encoder, and the weights' identity (the run's weights file hash, or the
checkpoint's resolved folder), so a rerun of a report or a second study on the same clips embeds nothing again.
A pretrained encoder that is not cached raises EncoderUnavailable: nothing is downloaded.
"""

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from synthaudio.audio import load_audio
from synthaudio.errors import SynthaudioError
from synthaudio.features import prepare_input
from synthaudio.fsutil import file_sha256
from synthaudio.manifest import Clip
from synthaudio.recognition.data import FeatureStore
from synthaudio.recognition.evaluation import pick_device
from synthaudio.recognition.feature_cache import ArrayCache, clip_key, default_cache_dir
from synthaudio.recognition.runs import load_run

EMBEDDING_CODE_VERSION = "1"
CLAP_CHECKPOINT = "laion/clap-htsat-unfused"
WHISPER_CHECKPOINT = "openai/whisper-base"
CLAP_RATE = 48000
WHISPER_RATE = 16000
MAX_SECONDS = 10.0  # CLAP's window; Whisper's is 30 s but the gap is measured on the same excerpt


class EncoderUnavailable(SynthaudioError):
    """A pretrained encoder is not on this machine (not in the Hugging Face cache, no local folder)."""


def resolve_checkpoint(checkpoint: str) -> Path:
    """The local folder of `checkpoint` (a folder, or a Hugging Face id already in the cache); never downloads."""
    if Path(checkpoint).is_dir():
        return Path(checkpoint).resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(checkpoint, local_files_only=True))
    except Exception:  # huggingface_hub raises several kinds for "not cached": all mean the same here
        raise EncoderUnavailable(f"{checkpoint}: not in the Hugging Face cache (offline: nothing is downloaded); "
                                 f"fetch it once with `huggingface-cli download {checkpoint}` to get its rows"
                                 ) from None


def _cached(clips: Sequence[Clip], kind: str, settings: dict, cache_dir: Path | None, embed) -> np.ndarray:
    """(clips, dims) embeddings, computing with `embed(list of clips) -> array` only what the cache lacks."""
    cache = ArrayCache((Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "embeddings")
    keys = [clip_key(clip, kind, settings, EMBEDDING_CODE_VERSION) for clip in clips]
    rows: list[np.ndarray | None] = []
    for key in keys:
        hit = cache.get(key)
        rows.append(None if hit is None else hit[0])
    missing = [i for i, row in enumerate(rows) if row is None]
    for first in range(0, len(missing), 16):
        chunk = missing[first:first + 16]
        for index, values in zip(chunk, embed([clips[i] for i in chunk]), strict=True):
            values = np.asarray(values, dtype=np.float32)
            cache.put(keys[index], values, len(values))
            rows[index] = values
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def _penultimate(model: torch.nn.Module, num_classes: int) -> torch.nn.Module:
    """The classifier's last linear layer (num_classes outputs): its input is the penultimate representation."""
    last = None
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.out_features == num_classes:
            last = module
    if last is None:
        raise SynthaudioError(f"{type(model).__name__}: no final linear layer with {num_classes} outputs to take "
                              "the penultimate representation from")
    return last


def classifier_embeddings(run_dir: Path | str, clips: Sequence[Clip], cache_dir: Path | str | None = None,
                          device: str = "cpu") -> np.ndarray:
    """(clips, dims): the input of the trained run's final layer for each clip (features from the cache)."""
    run_dir = Path(run_dir)
    settings = {"run_weights": file_sha256(run_dir / "model.safetensors")}
    state: dict = {}

    def embed(chunk: list[Clip]) -> np.ndarray:
        if "run" not in state:
            target = pick_device(device)
            run = load_run(run_dir, target)
            state.update(run=run, target=target, store=FeatureStore(run.features, cache_dir),
                         head=_penultimate(run.model, len(run.labels)))
        run, store = state["run"], state["store"]
        captured: list[torch.Tensor] = []
        hook = state["head"].register_forward_hook(lambda module, inputs, output: captured.append(inputs[0]))
        try:
            computed = store.features(chunk)
            inputs = torch.from_numpy(np.stack([prepare_input(values, run.features, None) for values, _ in computed]))
            valid = torch.tensor([v for _, v in computed], dtype=torch.long)
            with torch.no_grad():
                run.model(inputs.to(state["target"]), valid.to(state["target"]))
        finally:
            hook.remove()
        return captured[0].reshape(len(chunk), -1).float().cpu().numpy()

    return _cached(clips, "classifier-embedding", settings, cache_dir, embed)


def checkpoint_identity(folder: Path) -> str:
    """What identifies a checkpoint folder's weights without hashing gigabytes: its files' names and sizes."""
    entries = sorted((p.relative_to(folder).as_posix(), p.stat().st_size) for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def clap_embeddings(clips: Sequence[Clip], checkpoint: str = CLAP_CHECKPOINT, cache_dir: Path | str | None = None,
                    device: str = "cpu") -> np.ndarray:
    """(clips, dims): CLAP's projected audio embedding of each clip's first MAX_SECONDS."""
    folder = resolve_checkpoint(checkpoint)
    state: dict = {}

    def embed(chunk: list[Clip]) -> np.ndarray:
        if "model" not in state:
            from transformers import ClapFeatureExtractor, ClapModel

            state["model"] = ClapModel.from_pretrained(folder, local_files_only=True).to(pick_device(device)).eval()
            state["extractor"] = ClapFeatureExtractor.from_pretrained(folder, local_files_only=True)
        waveforms = [_waveform(clip, CLAP_RATE) for clip in chunk]
        inputs = state["extractor"](waveforms, sampling_rate=CLAP_RATE, return_tensors="pt")
        model = state["model"]
        with torch.no_grad():
            features = model.get_audio_features(**{k: v.to(model.device) for k, v in inputs.items()})
        features = getattr(features, "pooler_output", features)
        return features.float().cpu().numpy()

    return _cached(clips, "clap-embedding", {"checkpoint": checkpoint_identity(folder)}, cache_dir, embed)


def whisper_embeddings(clips: Sequence[Clip], checkpoint: str = WHISPER_CHECKPOINT,
                       cache_dir: Path | str | None = None, device: str = "cpu") -> np.ndarray:
    """(clips, dims): the Whisper encoder's last hidden state, averaged over the frames that hold the clip."""
    folder = resolve_checkpoint(checkpoint)
    state: dict = {}

    def embed(chunk: list[Clip]) -> np.ndarray:
        if "model" not in state:
            from transformers import WhisperFeatureExtractor, WhisperModel

            model = WhisperModel.from_pretrained(folder, local_files_only=True)
            state["encoder"] = model.get_encoder().to(pick_device(device)).eval()
            state["extractor"] = WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True)
        encoder, extractor = state["encoder"], state["extractor"]
        waveforms = [_waveform(clip, WHISPER_RATE) for clip in chunk]
        features = extractor(waveforms, sampling_rate=WHISPER_RATE, return_tensors="pt").input_features
        window = 2 * encoder.config.max_source_positions
        features = features[..., :window]
        if features.shape[-1] < window:
            features = torch.nn.functional.pad(features, (0, window - features.shape[-1]))
        with torch.no_grad():
            hidden = encoder(features.to(next(encoder.parameters()).device)).last_hidden_state.float().cpu()
        rows = []
        for samples, states in zip(waveforms, hidden, strict=True):
            # two input frames (10 ms hop) per encoder position; the padding beyond the clip is not the clip
            positions = max(1, min(states.shape[0], int(np.ceil(len(samples) / WHISPER_RATE * 50))))
            rows.append(states[:positions].mean(dim=0).numpy())
        return np.stack(rows)

    return _cached(clips, "whisper-embedding", {"checkpoint": checkpoint_identity(folder)}, cache_dir, embed)


def _waveform(clip: Clip, rate: int) -> np.ndarray:
    return load_audio(clip.path, rate, offset=clip.offset, duration=min(clip.duration, MAX_SECONDS))


def clap_text_embeddings(texts: Sequence[str], checkpoint: str = CLAP_CHECKPOINT, device: str = "cpu"
                         ) -> tuple[np.ndarray, float]:
    """((texts, dims) CLAP text embeddings, the model's logit scale): for text-audio similarity."""
    from transformers import ClapModel, ClapProcessor

    folder = resolve_checkpoint(checkpoint)
    model = ClapModel.from_pretrained(folder, local_files_only=True).to(pick_device(device)).eval()
    processor = ClapProcessor.from_pretrained(folder, local_files_only=True)
    inputs = processor.tokenizer(list(texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        features = model.get_text_features(**{k: v.to(model.device) for k, v in inputs.items()})
    features = getattr(features, "pooler_output", features)
    return features.float().cpu().numpy(), float(model.logit_scale_a.detach().exp())


def clap_caption_scores(clips: Sequence[Clip], captions: dict[str, str], checkpoint: str = CLAP_CHECKPOINT,
                        cache_dir: Path | str | None = None, kind: str = "probability") -> dict[str, float]:
    """clip id -> how much the clip sounds like its own label's caption, in [0, 1]: `probability` = CLAP's
    zero-shot probability of that caption among every label's caption; `similarity` = (cosine + 1) / 2."""
    labels = sorted(captions)
    audio = clap_embeddings(clips, checkpoint, cache_dir)
    text, scale = clap_text_embeddings([captions[label] for label in labels], checkpoint)
    audio = audio / np.maximum(np.linalg.norm(audio, axis=1, keepdims=True), 1e-12)
    text = text / np.maximum(np.linalg.norm(text, axis=1, keepdims=True), 1e-12)
    cosine = audio @ text.T  # (clips, labels)
    index = {label: i for i, label in enumerate(labels)}
    if kind == "similarity":
        return {clip.id: float((cosine[row, index[clip.label]] + 1) / 2) for row, clip in enumerate(clips)}
    logits = scale * cosine
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return {clip.id: float(probabilities[row, index[clip.label]]) for row, clip in enumerate(clips)}
