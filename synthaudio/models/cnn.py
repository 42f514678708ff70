"""A small log-mel CNN that trains in seconds on a CPU: the default where no GPU is available.

Four conv blocks (3x3 conv, group norm, ReLU); the first convolution strides by 2 and the first three blocks
max-pool by 2, so a 128 x 512 input costs ~0.1 GFLOP; the remaining frequency rows (8 of 128 bins) stay separate
features, because where in the spectrum energy lies is what tells many classes apart (averaging over frequency
made even pure tones slow to learn); then mean + max over time (sounds may be short events in a long clip),
dropout and a linear classifier.

Group norm rather than batch norm: it keeps no running statistics, so the model behaves the same in training and
evaluation. With batch norm, the few hundred steps of a short CPU run left the running statistics far from the
current weights, and a model that fitted its training batches predicted one class in evaluation.
"""

import math

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from synthaudio.features import FeatureSettings
from synthaudio.models import parse_options

GROUPS = 8


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: tuple[int, int, int, int] = (16, 32, 64, 128)
    dropout: float = Field(default=0.3, ge=0, lt=1)


def _block(inputs: int, outputs: int, stride: int = 1, pool: int = 1) -> nn.Sequential:
    layers = [nn.Conv2d(inputs, outputs, kernel_size=3, stride=stride, padding=1, bias=False)]
    if pool > 1:
        # pooling before normalisation and ReLU: those memory-bound ops then touch a quarter of the values (they
        # dominated CPU time when applied at full resolution)
        layers.append(nn.MaxPool2d(pool, ceil_mode=True))
    layers += [nn.GroupNorm(min(GROUPS, outputs), outputs), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class LogMelCNN(nn.Module):
    def __init__(self, num_classes: int, options: Options, num_mel_bins: int, time_axis: int = 0):
        super().__init__()
        c1, c2, c3, c4 = options.channels
        rows = num_mel_bins
        for _ in range(4):  # the strided first convolution, then three poolings, each halve (rounding up)
            rows = math.ceil(rows / 2)
        self.time_axis = time_axis
        self.blocks = nn.Sequential(_block(1, c1, stride=2, pool=2), _block(c1, c2, pool=2), _block(c2, c3, pool=2),
                                    _block(c3, c4))
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(2 * c4 * rows, num_classes)
        self.spec = options.model_dump(mode="json")

    def forward(self, inputs: torch.Tensor, valid_frames: torch.Tensor | None = None) -> torch.Tensor:
        # (batch, frames, bins) -> (batch, 1, bins, frames): frequency as image height, time as width
        images = inputs.transpose(1, 2) if self.time_axis == 0 else inputs
        maps = self.blocks(images.unsqueeze(1)).flatten(1, 2)  # (batch, channels x frequency rows, time)
        pooled = torch.cat([maps.mean(dim=2), maps.amax(dim=2)], dim=1)
        return self.classifier(self.dropout(pooled))


def adapt_features(features: FeatureSettings, **options) -> FeatureSettings:
    return features


def build(num_classes: int, features: FeatureSettings, **options) -> LogMelCNN:
    return LogMelCNN(num_classes, parse_options("cnn", Options, options), features.num_mel_bins, features.time_axis)
