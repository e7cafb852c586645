"""The image model: a compact CNN on the 28x28 canonical image with two heads.

    x [N,1,28,28] in [0,1]
    -> conv3x3 32, conv3x3 32, maxpool -> conv3x3 64, conv3x3 64, maxpool
    -> conv3x3 128, conv3x3 128 (each conv: BatchNorm + ReLU)
    -> flatten 6272 -> Dense 256 + BatchNorm + ReLU + Dropout 0.3 = feature
    feature -> Dense 64 -> L2 normalisation = embedding
    feature -> Dense 10 = logits (category order of the manifest)
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

EMBED_DIM = 64
N_CLASSES = 10


def conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ImageEmbedder(nn.Module):
    def __init__(self, widths=(32, 64, 128), feature: int = 256, dropout: float = 0.3):
        super().__init__()
        a, b, c = widths
        self.features = nn.Sequential(
            *conv_bn_relu(1, a), *conv_bn_relu(a, a), nn.MaxPool2d(2),
            *conv_bn_relu(a, b), *conv_bn_relu(b, b), nn.MaxPool2d(2),
            *conv_bn_relu(b, c), *conv_bn_relu(c, c),
        )
        self.neck = nn.Sequential(
            nn.Flatten(), nn.Linear(c * 7 * 7, feature, bias=False), nn.BatchNorm1d(feature),
            nn.ReLU(inplace=True), nn.Dropout(dropout),
        )
        self.embed = nn.Linear(feature, EMBED_DIM)
        self.classify = nn.Linear(feature, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.neck(self.features(x))
        emb = F.normalize(self.embed(h), dim=1, eps=1e-12)
        return emb, self.classify(h)


def l2(e: torch.Tensor) -> torch.Tensor:
    """x / sqrt(sum x^2): L2 normalisation without ONNX's ReduceL2 edge cases."""
    return e / torch.sqrt(torch.clamp((e * e).sum(dim=1, keepdim=True), min=1e-24))


class ExportWrapper(nn.Module):
    """The graph that goes to ONNX: input `image`, outputs `embedding` and `logits`.

    The image and its mirror image both go through the network (training used horizontal flips,
    so both are equally valid views): embedding = normalise(emb(x) + emb(flip(x))), logits = the
    mean of the two. This adds about 0.2 points to every metric for twice a ~1 ms inference."""

    def __init__(self, model: ImageEmbedder):
        super().__init__()
        self.model = model
        self.register_buffer("mirror", torch.arange(27, -1, -1), persistent=False)

    def forward(self, image: torch.Tensor):
        n = image.shape[0]
        both = torch.cat([image, image.index_select(3, self.mirror)], 0)
        h = self.model.neck(self.model.features(both))
        e = l2(self.model.embed(h))
        logits = self.model.classify(h)
        return l2(e[:n] + e[n:]), 0.5 * (logits[:n] + logits[n:])
