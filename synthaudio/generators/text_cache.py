"""Text encodings computed once per distinct text and kept across batches (label-guided prompts repeat).

Each text is encoded on its own, so its encoding never depends on which other prompts share its batch; the cache
therefore changes no result, only how often the text encoders run.
"""

from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class TextEncodingCache:
    """encode(text) results by text, the least recently used dropped beyond `capacity` (memory stays bounded)."""

    def __init__(self, encode: Callable[[str], Any], capacity: int = 512):
        self.encode = encode
        self.capacity = capacity
        self.entries: OrderedDict[str, Any] = OrderedDict()
        self.encoded = 0  # how many times the encoder actually ran

    def get(self, text: str) -> Any:
        if text in self.entries:
            self.entries.move_to_end(text)
            return self.entries[text]
        value = self.encode(text)
        self.encoded += 1
        self.entries[text] = value
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        return value


def pad_rows(states: list, masks: list):
    """Stack [tokens, dim] states and [tokens] masks of different lengths, zero-padded (mask 0) to the longest."""
    import torch
    from torch.nn.functional import pad

    length = max(state.shape[0] for state in states)
    stacked = torch.stack([pad(state, (0, 0, 0, length - state.shape[0])) for state in states])
    stacked_masks = torch.stack([pad(mask, (0, length - mask.shape[0])) for mask in masks])
    return stacked, stacked_masks
