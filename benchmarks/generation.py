"""Clips per second of the synthaudio engine against the study's reference loop, on the same models and clips.

The reference loop is what the study's code does: one clip per pipeline call, float32, then a WAV write. Ours is
`run_generation` (batches, one text encoding per distinct prompt, per-clip seeds, inference mode, atomic WAV writes,
an fsynced manifest row per clip, metadata.csv). Model construction is excluded on both sides; both are warmed up
once, then timed in interleaved rounds (best round counts: the machine is shared).

CPU (default): tiny random-weight models of the real architectures, one thread.
    python benchmarks/generation.py
GPU: the FULL-SIZE published architectures (cvssp/audioldm2-large, facebook/musicgen-medium, facebook/audiogen-medium)
with random weights, built from their config values in code (no download); reference in float32, ours in float16.
AudioGen's reference is audiocraft's way of calling it, one clip per generate() call, on the transformers port.
    python benchmarks/generation.py --device cuda --full-size

Prints each generator's clips/s and ratio (ours over reference); the last line is `ratio: X.XX`, the smaller one.

Ray (issue 8): the same tiny-model job, one run each, on 1 local process and on 2 local Ray worker actors (one
model and one torch thread each); model loading excluded on both sides. The ratio is Ray's clips/s over the local
process's (at most about 2 on 2 idle cores; the driver and other load share them).
    python benchmarks/generation.py --executor ray
"""

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

LABELS = {"audioldm2": ["dog barking", "rain on a roof", "church bells", "chainsaw"],
          "musicgen": ["jazz", "rock", "classical", "hip hop"],
          "audiogen": ["dog barking", "rain on a roof", "church bells", "chainsaw"]}
# the study's label-guided templates
TEMPLATE = {"audioldm2": "{} sound", "musicgen": "{} music", "audiogen": "{} sound"}


def log(message: str) -> None:
    print(message, flush=True)


def clip_prompts(generator: str, clips: int) -> dict[str, list[str]]:
    """Label-guided prompts, clips spread evenly over four labels (in a study each label's prompt repeats)."""
    labels = LABELS[generator]
    if clips % len(labels):
        raise SystemExit(f"--clips {clips}: use a multiple of {len(labels)}")
    return {label: [TEMPLATE[generator].format(label)] * (clips // len(labels)) for label in labels}


def write_prompt_file(folder: Path, generator: str, clips: int) -> Path:
    from synthaudio.prompts.promptfile import PromptSet, write_prompts

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{generator}-prompts.json"
    write_prompts(path, PromptSet(domain="music" if generator == "musicgen" else "sound", strategy="label", seed=0,
                                  clips_per_class=clips // len(LABELS[generator]),
                                  prompts=clip_prompts(generator, clips)))
    return path


def build_reference(generator: str, full_size: bool, device: str):
    """The study's setup: float32 model, eval mode (as from_pretrained leaves it)."""
    from synthaudio.generators import published, tiny

    if generator == "audioldm2":
        pipe = published.audioldm2_large_pipeline(device) if full_size else tiny.tiny_audioldm2_pipeline().to(device)
        for component in pipe.components.values():
            if hasattr(component, "eval"):
                component.eval()
        pipe.set_progress_bar_config(disable=True)
        return pipe
    if generator == "audiogen":  # audiocraft's AudioGen.generate([prompt]) per clip, on the converted model
        model, processor, _ = published.audiogen_medium(device) if full_size else tiny.tiny_audiogen_port()
        return model.to(device).eval(), processor
    model, processor = published.musicgen_medium(device) if full_size else tiny.tiny_musicgen()
    return model.to(device).eval(), processor


def reference_loop(generator: str, model, prompts: list[str], args, out: Path) -> float:
    """One clip per call, written as the study's scripts do; returns seconds."""
    import soundfile
    import torch

    started = time.perf_counter()
    for number, prompt in enumerate(prompts):
        if generator == "audioldm2":
            audio = model(prompt, num_inference_steps=args.steps, audio_length_in_s=args.duration).audios[0]
            rate = 16000
        else:
            network, processor = model
            inputs = processor(text=[prompt], padding=True, return_tensors="pt").to(args.device)
            frames = int(round(network.config.audio_encoder.frame_rate * args.duration)) + 3
            with torch.no_grad():
                audio = network.generate(**inputs, do_sample=True, guidance_scale=3.0, max_new_tokens=frames)
            audio, rate = audio[0, 0].float().cpu().numpy(), network.config.audio_encoder.sampling_rate
        soundfile.write(out / f"{number}.wav", audio, rate)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started


def engine_run(generator: str, prompt_file: Path, args, out: Path, executor: str = "local",
               executor_options: dict | None = None) -> tuple[float, int]:
    """(seconds without model construction, clips written) of one engine run."""
    from synthaudio.generation import RunSettings, run_generation

    checkpoint = {"audioldm2": "random-weights:cvssp/audioldm2-large",
                  "musicgen": "random-weights:facebook/musicgen-medium",
                  "audiogen": "random-weights:facebook/audiogen-medium"}[generator] if args.full_size else "tiny-random"
    settings = {"steps": args.steps} if generator == "audioldm2" else {}
    started = time.perf_counter()
    run = RunSettings(generator, checkpoint, args.duration, batch_size=args.batch_size, generator_settings=settings,
                      device=args.device)
    summary = run_generation(prompt_file, out, run, progress=False, executor=executor,
                             executor_options=executor_options)
    return time.perf_counter() - started - summary.load_seconds, summary.written


CPU_BATCH_SIZE = {"audioldm2": 16, "musicgen": 8, "audiogen": 8}


def measure(generator: str, args, workspace: Path) -> dict:
    import torch

    args = argparse.Namespace(**{**vars(args), "batch_size": args.batch_size or CPU_BATCH_SIZE[generator]})

    prompt_file = write_prompt_file(workspace, generator, args.clips)
    warmup_clips = max(4, min(args.batch_size, args.clips) // 4 * 4)  # about one batch
    warmup_file = write_prompt_file(workspace / "warm-up", generator, warmup_clips)
    prompts = [prompt for values in clip_prompts(generator, args.clips).values() for prompt in values]
    reference_prompts = prompts[: args.reference_clips or len(prompts)]
    log(f"[{generator}] building the reference model ({'full size' if args.full_size else 'tiny'}, float32)")
    started = time.perf_counter()
    reference = build_reference(generator, args.full_size, args.device)
    log(f"[{generator}] built in {time.perf_counter() - started:.1f} s; warming up")
    reference_loop(generator, reference, reference_prompts[:1], args, Path(tempfile.mkdtemp(dir=workspace)))
    best_reference, best_ours = float("inf"), float("inf")
    for round_number in range(args.rounds):
        seconds = reference_loop(generator, reference, reference_prompts, args, Path(tempfile.mkdtemp(dir=workspace)))
        best_reference = min(best_reference, seconds / len(reference_prompts))
        log(f"[{generator}] round {round_number + 1}: reference {len(reference_prompts) / seconds:.3f} clips/s")
        if args.full_size:  # one full-size model on the GPU at a time
            del reference
            torch.cuda.empty_cache()
        if round_number == 0:  # warm-up on one batch of the same shape as the timed batches
            log(f"[{generator}] warming up the engine on one batch")
            engine_run(generator, warmup_file, args, Path(tempfile.mkdtemp(dir=workspace)))
        seconds, written = engine_run(generator, prompt_file, args, Path(tempfile.mkdtemp(dir=workspace)))
        best_ours = min(best_ours, seconds / written)
        log(f"[{generator}] round {round_number + 1}: ours {written / seconds:.3f} clips/s")
        if args.full_size and round_number + 1 < args.rounds:
            reference = build_reference(generator, args.full_size, args.device)
    result = {"reference_clips_per_s": 1 / best_reference, "ours_clips_per_s": 1 / best_ours,
              "ratio": best_reference / best_ours, "batch_size": args.batch_size}
    log(f"{generator}: ours {result['ours_clips_per_s']:.3f} clips/s, reference {result['reference_clips_per_s']:.3f} "
        f"clips/s, ratio {result['ratio']:.2f}")
    return result


# about 10 s of one process each: long next to a worker's start-up
RAY_CLIPS = {"audioldm2": 64, "musicgen": 256, "audiogen": 256}


def measure_ray(generator: str, args, workspace: Path) -> dict:
    """One run on this process, one on 2 local Ray workers, same clips; ratio: Ray's clips/s over local's."""
    args = argparse.Namespace(**{**vars(args), "batch_size": args.batch_size or CPU_BATCH_SIZE[generator],
                                 "clips": args.clips or RAY_CLIPS[generator]})
    prompt_file = write_prompt_file(workspace, generator, args.clips)
    seconds, written = engine_run(generator, prompt_file, args, Path(tempfile.mkdtemp(dir=workspace)))
    local = written / seconds
    log(f"[{generator}] local process: {local:.3f} clips/s ({written} clips)")
    seconds, written = engine_run(generator, prompt_file, args, Path(tempfile.mkdtemp(dir=workspace)),
                                  executor="ray", executor_options={"workers": args.workers,
                                                                    "cpus_per_worker": args.threads})
    ray = written / seconds
    log(f"[{generator}] ray, {args.workers} workers: {ray:.3f} clips/s ({written} clips)")
    result = {"local_clips_per_s": local, "ray_clips_per_s": ray, "ratio": ray / local, "workers": args.workers,
              "batch_size": args.batch_size}
    log(f"{generator}: ray {ray:.3f} clips/s, local {local:.3f} clips/s, ratio {result['ratio']:.2f}")
    return result


def start_local_ray(args, workspace: Path) -> None:
    """A local Ray with one CPU per worker, its session files in the workspace (the socket paths stay short)."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a throw-away instance: no auth token under the home folder
    ray.init(num_cpus=args.workers * args.threads, include_dashboard=False, logging_level="WARNING",
             _temp_dir=str(workspace / "ray"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generators", default="audioldm2,musicgen,audiogen")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--full-size", action="store_true", help="published architectures, random weights (GPU)")
    parser.add_argument("--clips", type=int, default=None, help="clips per generator (a multiple of 4)")
    parser.add_argument("--reference-clips", type=int, default=None, help="clips for the slow reference loop")
    parser.add_argument("--duration", type=float, default=None, help="seconds per clip")
    parser.add_argument("--steps", type=int, default=None, help="AudioLDM 2 denoising steps")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: 16 on the GPU; on one CPU thread 16 for AudioLDM 2 and 8 for MusicGen (its "
                             "EnCodec decoder gets slower per clip beyond 8 rows there)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (per Ray worker with --executor ray)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="local: ours against the reference loop; ray: 2 Ray workers against 1 local process")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers (--executor ray)")
    args = parser.parse_args()
    # Small defaults on the GPU: the full-size check must fit a few minutes, model construction included.
    defaults = ({"clips": 16, "reference_clips": 2, "duration": 5.0, "steps": 50, "batch_size": 16, "rounds": 1}
                if args.full_size else
                {"clips": None if args.executor == "ray" else 32, "reference_clips": None, "duration": 2.0, "steps": 10,
                 "batch_size": None, "rounds": 3})
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)  # deprecations inside diffusers/transformers
    import torch

    torch.set_num_threads(args.threads)
    if args.full_size and not args.device.startswith("cuda"):
        log("note: --full-size on the CPU builds 1.5-2B parameter models; expect minutes per clip")
    results = {}
    load_before = os.getloadavg()[0]  # other work on shared cores caps what 2 workers can gain
    with tempfile.TemporaryDirectory() as workspace:
        if args.executor == "ray":
            start_local_ray(args, Path(workspace))
        for generator in args.generators.split(","):
            measure_generator = measure_ray if args.executor == "ray" else measure
            results[generator] = measure_generator(generator, args, Path(workspace))
        if args.executor == "ray":
            import ray

            ray.shutdown()
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({args.threads} thread)"
    log(json.dumps({"device": device, "executor": args.executor, "full_size": args.full_size,
                    "duration_s": args.duration, "steps": args.steps, "cpu_cores": os.cpu_count(),
                    "load_average_before": load_before, "results": results}))
    print(f"ratio: {min(result['ratio'] for result in results.values()):.2f}")


if __name__ == "__main__":
    sys.exit(main())
