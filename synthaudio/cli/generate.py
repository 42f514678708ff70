"""`synthaudio generate`: prompts.json -> DIR/<label>/<id>.wav + DIR/manifest.jsonl + DIR/metadata.csv."""

from pathlib import Path

import typer

from synthaudio.cli.interrupt import explained_interrupt


def generate(
    prompts: Path = typer.Option(..., "--prompts", help="prompts.json written by `synthaudio prompts`."),
    generator: str = typer.Option(..., "--generator", help="audioldm2, musicgen, audiogen, stable-audio or tts."),
    out: Path = typer.Option(..., "--out", help="Output folder (also a Hugging Face audiofolder)."),
    checkpoint: str = typer.Option(None, "--checkpoint",
                                   help="Hugging Face id or local folder (default: the study's checkpoint); "
                                        "tiny-random (tests, demos) or random-weights:<published id> (full size, "
                                        "for speed checks) build random-weight models."),
    duration: float = typer.Option(5.0, "--duration", help="Seconds per clip."),
    sample_rate: int = typer.Option(16000, "--sample-rate", help="Output sample rate (Hz)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Prompts per model call."),
    seed: int = typer.Option(None, "--seed", help="Study seed (default: the prompt file's)."),
    shard: str = typer.Option(None, "--shard", help="I/N: make only shard I of N (0-based)."),
    steps: int = typer.Option(None, "--steps", help="Denoising steps (diffusion generators)."),
    guidance_scale: float = typer.Option(None, "--guidance-scale", help="Classifier-free guidance scale."),
    setting: list[str] = typer.Option(None, "--setting",
                                      help="KEY=VALUE backend setting (repeat), VALUE as JSON where it parses, e.g. "
                                           "engine=all or 'piper_voices=[\"/v/en.onnx\"]' (tts), top_k=250."),
    negative_prompt: str = typer.Option(None, "--negative-prompt", help="Overrides the prompt file's."),
    device: str = typer.Option(None, "--device", help="cpu, cuda or cuda:N (default: cuda if available)."),
    dtype: str = typer.Option(None, "--dtype", help="float32, float16 or bfloat16 (default: float16 on CUDA)."),
    band_limit_hz: int = typer.Option(None, "--band-limit-hz", help="Low-pass to this bandwidth (e.g. 4000)."),
    threads: int = typer.Option(None, "--threads", min=1,
                                help="torch threads while generating (default: torch's choice; with --executor ray "
                                     "each worker's --cpus-per-worker). Clips are byte-identical across runs with "
                                     "the same thread count and batch size."),
    executor: str = typer.Option("local", "--executor",
                                 help="Where batches run: local (this process) or ray (Ray actors, one model each)."),
    address: str = typer.Option(None, "--address", help="--executor ray: auto (the `ray start` cluster here) or "
                                                        "HOST:PORT; default: RAY_ADDRESS, else a local Ray."),
    workers: int = typer.Option(None, "--workers", help="--executor ray: worker actors (default: one per GPU, or "
                                                        "per CPU without GPUs)."),
    gpus_per_worker: float = typer.Option(None, "--gpus-per-worker", help="--executor ray: GPUs per worker "
                                                                          "(default 1 where there are GPUs, else 0)."),
    cpus_per_worker: int = typer.Option(None, "--cpus-per-worker", help="--executor ray: CPUs (torch threads) per "
                                                                        "worker (default 1)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Generate synthetic clips for every prompt, resumably; the same command twice gives identical WAVs."""
    from synthaudio.generation import RunSettings, run_generation

    ray_options = {"address": address, "workers": workers, "gpus_per_worker": gpus_per_worker,
                   "cpus_per_worker": cpus_per_worker}
    settings = RunSettings(generator=generator, checkpoint=checkpoint, duration=duration, sample_rate=sample_rate,
                           batch_size=batch_size, seed=seed,
                           generator_settings=parse_settings(setting or [], steps=steps, guidance_scale=guidance_scale),
                           device=device, dtype=dtype, band_limit_hz=band_limit_hz, threads=threads)
    with explained_interrupt(f"every finished clip is kept in {out} (listed in its manifest.jsonl); run the same "
                             f"command again to generate only the rest"):
        summary = run_generation(prompts, out, settings, shard=shard, negative_prompt=negative_prompt,
                                 executor=executor, progress=progress,
                                 executor_options={name: value for name, value in ray_options.items()
                                                   if value is not None})
    for note in summary.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"{summary.written} clips written, {summary.skipped} already done, of {summary.planned} planned "
               f"({summary.clips_per_second:.2f} clips/s; model load {summary.load_seconds:.1f} s) -> "
               f"{summary.manifest}")


def parse_settings(pairs: list[str], **named) -> dict:
    """Backend settings from KEY=VALUE pairs (JSON values where they parse) and the named options."""
    from synthaudio.cli.options import parse_key_values

    return parse_key_values(pairs, "--setting", "engine=all",
                            taken={key: value for key, value in named.items() if value is not None})


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
