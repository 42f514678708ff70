"""Per-clip seeded sampling for transformers' MusicGen decoder family (MusicGen, and AudioGen ported onto it).

transformers samples with the process-wide torch RNG, so one clip's audio would depend on the other clips of its
batch and on everything that ran before. Instead generation runs in greedy mode with a final logits processor that
adds Gumbel noise drawn from each clip's own torch.Generator: argmax(logits / T + Gumbel) is an exact sample from
softmax(logits / T), restricted to the top k as in audiocraft's sampler.
"""

import math


def gumbel_sampler(generators: list, rows_per_clip: int, top_k: int, temperature: float):
    """A transformers LogitsProcessor that makes greedy decoding sample top-k with each clip's own generator."""
    import torch
    from transformers import LogitsProcessor

    class PerClipGumbelSampler(LogitsProcessor):
        def __call__(self, input_ids, scores):
            expected = len(generators) * rows_per_clip
            if scores.shape[0] != expected:  # guidance not applied yet: the processor order changed upstream
                raise RuntimeError(f"per-clip sampler expected {expected} rows of guided logits, got "
                                   f"{scores.shape[0]}; this transformers version orders MusicGen's processors "
                                   "differently")
            scores = scores.float() / temperature
            if top_k < scores.shape[-1]:
                kth = torch.topk(scores, top_k, dim=-1).values[:, -1:]
                scores = scores.masked_fill(scores < kth, -math.inf)
            uniform = torch.cat([torch.rand((rows_per_clip, scores.shape[-1]), generator=generator,
                                            device=scores.device) for generator in generators])
            tiny = torch.finfo(uniform.dtype).tiny
            return scores - torch.log(-torch.log(uniform.clamp(tiny, 1.0 - 1e-7)))

    return PerClipGumbelSampler()


def processors_after_guidance(sampler):
    """The caller's processor list for MusicGen's generate(), which appends its guidance processor to this very
    list: insert it before our sampler instead, so that the sampler sees guided logits."""
    from transformers import LogitsProcessorList

    class GuidanceBeforeSampler(LogitsProcessorList):
        def append(self, processor) -> None:
            self.insert(len(self) - 1, processor)

    return GuidanceBeforeSampler([sampler])
