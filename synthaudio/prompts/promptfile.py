"""prompts.json: per label, the prompts of the clips to generate (index i is clip i), plus provenance.

This file is the contract between `synthaudio prompts` and `synthaudio generate`.
"""

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synthaudio.errors import ConfigError, field_problem
from synthaudio.fsutil import write_text_atomic

FORMAT = "synthaudio.prompts/1"
Domain = Literal["sound", "music", "speech", "action"]
Strategy = Literal["label", "llm", "caption"]


class PromptSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["synthaudio.prompts/1"] = FORMAT
    domain: Domain
    strategy: Strategy
    seed: int
    clips_per_class: int = Field(gt=0)
    negative_prompt: str | None = None
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="template, or LLM backend/model/instruction, descriptor file and its hash; never secrets")
    prompts: dict[str, list[str]] = Field(description="label -> one prompt per clip, in clip order")

    @model_validator(mode="after")
    def _one_prompt_per_clip(self) -> "PromptSet":
        for label, prompts in self.prompts.items():
            if len(prompts) != self.clips_per_class:
                raise ValueError(f"label '{label}' has {len(prompts)} prompts, expected clips_per_class="
                                 f"{self.clips_per_class}")
            if any(not p.strip() for p in prompts):
                raise ValueError(f"label '{label}' has an empty prompt")
        if not self.prompts:
            raise ValueError("no labels")
        return self


def read_prompts(path: Path | str) -> PromptSet:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: prompts file not found; write one with `synthaudio prompts ... --out {path}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}); a prompts file is JSON written by "
                          f"`synthaudio prompts`") from None
    try:
        return PromptSet.model_validate(data)
    except ValidationError as error:
        problem = field_problem(error)
        raise ConfigError(f"{path}: field '{problem.field or 'file'}': {problem.message}") from None


def write_prompts(path: Path | str, prompt_set: PromptSet) -> None:
    write_text_atomic(path, json.dumps(prompt_set.model_dump(), indent=2, ensure_ascii=False) + "\n")
