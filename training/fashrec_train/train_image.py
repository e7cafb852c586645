"""Train the image model on the 60,000 train products (checkpointed every epoch, resumable).

Loss = cross-entropy on the logits (label smoothing 0.1)
     + CosFace on the embedding against 10 learned class proxies (scale 16, margin 0.25)
     + batch-hard triplet on the embedding (squared L2 on the unit sphere, margin 0.2).
Augmentation (on the canonical 28x28 images, in torch): horizontal flip, a small affine
(scale, aspect, rotation, sub-pixel shift, bilinear), blur, gamma, renormalisation to max 1
(as the preprocessing does) and random erasing.

    python -m fashrec_train.train_image [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CHECKPOINTS, SEED, canonical_images, log, seed_everything, write_json
from .image_model import EMBED_DIM, N_CLASSES, ImageEmbedder
from .metrics import ranked_labels, retrieval_metrics

CKPT_DIR = CHECKPOINTS / "image"

RECIPE = {
    "epochs": 20,
    "batch_size": 256,
    "optimizer": "AdamW",
    "lr_max": 3e-3,
    "weight_decay": 5e-4,
    "schedule": "OneCycle (cosine, 20% warm-up)",
    "label_smoothing": 0.1,
    "cosface_scale": 16.0,
    "cosface_margin": 0.25,
    "triplet_margin": 0.2,
    "loss_weights": {"ce": 1.0, "cosface": 1.0, "triplet": 1.0},
}


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    b = x.shape[0]

    def u(lo, hi, n=b):
        return lo + (hi - lo) * torch.rand(n, generator=g)

    flip = torch.rand(b, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    # Affine: output -> input coordinates (affine_grid convention), normalised [-1, 1].
    do = (torch.rand(b, generator=g) < 0.8).float()
    scale = torch.exp(u(math.log(0.90), math.log(1.08))) * do + (1 - do)
    aspect = torch.exp(u(-0.05, 0.05)) * do + (1 - do)
    rot = u(-0.07, 0.07) * do
    tx, ty = u(-0.08, 0.08) * do, u(-0.08, 0.08) * do
    cos, sin = torch.cos(rot), torch.sin(rot)
    sx, sy = 1 / (scale * aspect), aspect / scale
    theta = torch.stack([
        torch.stack([cos * sx, -sin * sy, tx], 1),
        torch.stack([sin * sx, cos * sy, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # Blur (the resampling of a photo): a 3x3 Gaussian of random width on 30% of the images.
    blur = torch.rand(b, generator=g) < 0.3
    if blur.any():
        sig = u(0.35, 0.8, int(blur.sum()))
        k1 = torch.exp(-torch.tensor([-1.0, 0.0, 1.0])[None, :] ** 2 / (2 * sig[:, None] ** 2))
        k1 = k1 / k1.sum(1, keepdim=True)
        k2 = (k1[:, :, None] * k1[:, None, :])[:, None]  # (n,1,3,3)
        xb = x[blur].transpose(0, 1)  # (1,n,28,28): one group per image
        xb = F.conv2d(F.pad(xb, (1, 1, 1, 1)), k2, groups=k2.shape[0])
        x = x.clone()
        x[blur] = xb.transpose(0, 1)
    gamma = torch.where(torch.rand(b, generator=g) < 0.5, torch.exp(u(-0.35, 0.35)), torch.ones(b))
    x = x.clamp(min=0) ** gamma[:, None, None, None]
    x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
    # Random erasing.
    erase = torch.rand(b, generator=g) < 0.25
    if erase.any():
        area = u(0.02, 0.15) * 784
        ratio = torch.exp(u(math.log(0.3), math.log(3.3)))
        h = (area * ratio).sqrt().clamp(1, 27).long()
        w = (area / ratio).sqrt().clamp(1, 27).long()
        top = (u(0, 1) * (28 - h + 1).float()).long()
        left = (u(0, 1) * (28 - w + 1).float()).long()
        ys = torch.arange(28)[None, :, None]
        xs = torch.arange(28)[None, None, :]
        m = ((ys >= top[:, None, None]) & (ys < (top + h)[:, None, None])
             & (xs >= left[:, None, None]) & (xs < (left + w)[:, None, None]) & erase[:, None, None])
        x = x.masked_fill(m[:, None], 0.0)
    return x


def batch_hard_triplet(emb: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    d = (2 - 2 * emb @ emb.T).clamp(min=0)
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(y), dtype=torch.bool)
    hardest_pos = d.masked_fill(~same | eye, -1).amax(1)
    hardest_neg = d.masked_fill(same, 1e9).amin(1)
    valid = (hardest_pos >= 0) & (hardest_neg < 1e8)
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


@torch.no_grad()
def embed_all(model: nn.Module, x: torch.Tensor, batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    es, ls = [], []
    for s in range(0, len(x), batch):
        e, l = model(x[s:s + batch])
        es.append(e.numpy())
        ls.append(l.numpy())
    return np.concatenate(es), np.concatenate(ls)


def evaluate(model, x_tr, y_tr, x_te, y_te) -> dict:
    e_tr, _ = embed_all(model, x_tr)
    e_te, l_te = embed_all(model, x_te)
    y_tr, y_te = np.asarray(y_tr), np.asarray(y_te)
    m = retrieval_metrics(ranked_labels(e_te, e_tr, y_tr), y_te)
    m["classifier_accuracy"] = float((l_te.argmax(1) == y_te).mean())
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    ap.add_argument("--eval-every", type=int, default=6)
    args = ap.parse_args()
    recipe = dict(RECIPE, epochs=args.epochs)
    seed_everything(SEED)
    canon, labels, is_train = canonical_images()
    x_tr = torch.from_numpy(canon[is_train])[:, None]
    y_tr = torch.from_numpy(labels[is_train])
    x_te = torch.from_numpy(canon[~is_train])[:, None]
    y_te = torch.from_numpy(labels[~is_train])

    model = ImageEmbedder()
    proxies = nn.Parameter(torch.randn(N_CLASSES, EMBED_DIM, generator=torch.Generator().manual_seed(SEED)))
    params = list(model.parameters()) + [proxies]
    opt = torch.optim.AdamW(params, lr=recipe["lr_max"], weight_decay=recipe["weight_decay"])
    steps_per_epoch = len(x_tr) // recipe["batch_size"]
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=recipe["lr_max"], total_steps=recipe["epochs"] * steps_per_epoch, pct_start=0.2)
    start_epoch, history = 0, []
    CKPT_DIR.mkdir(parents=True, exist_ok=True)
    last = CKPT_DIR / "last.pt"
    final = CKPT_DIR / "final.pt"
    if final.exists():
        state = torch.load(final, weights_only=False)
        if state.get("recipe") == recipe:
            log(f"image model already trained ({final}); delete it to retrain")
            return
    if last.exists():
        state = torch.load(last, weights_only=False)
        if state.get("recipe") == recipe:
            model.load_state_dict(state["model"])
            proxies.data.copy_(state["proxies"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            start_epoch, history = state["epoch"] + 1, state["history"]
            log(f"resuming after epoch {start_epoch} from {last}")
        else:
            log("checkpoint is from another recipe: starting over")

    for epoch in range(start_epoch, recipe["epochs"]):
        t0 = time.time()
        model.train()
        torch.manual_seed(SEED + 1000 + epoch)
        g = torch.Generator().manual_seed(SEED + epoch)
        perm = torch.randperm(len(x_tr), generator=g)
        sums = {"loss": 0.0, "ce": 0.0, "cosface": 0.0, "triplet": 0.0, "acc": 0.0}
        for step in range(steps_per_epoch):
            idx = perm[step * recipe["batch_size"]:(step + 1) * recipe["batch_size"]]
            xb, yb = augment(x_tr[idx], g), y_tr[idx]
            emb, logits = model(xb)
            ce = F.cross_entropy(logits, yb, label_smoothing=recipe["label_smoothing"])
            cos = emb @ F.normalize(proxies, dim=1).T
            cosface = F.cross_entropy(
                recipe["cosface_scale"] * (cos - recipe["cosface_margin"] * F.one_hot(yb, N_CLASSES)), yb)
            trip = batch_hard_triplet(emb, yb, recipe["triplet_margin"])
            loss = ce + cosface + trip
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            for k, v in (("loss", loss), ("ce", ce), ("cosface", cosface), ("triplet", trip)):
                sums[k] += float(v)
            sums["acc"] += float((logits.argmax(1) == yb).float().mean())
            if step % 50 == 0:
                log(f"epoch {epoch + 1}/{recipe['epochs']} step {step}/{steps_per_epoch} loss {float(loss):.3f}")
        rec = {k: v / steps_per_epoch for k, v in sums.items()}
        rec.update(epoch=epoch + 1, seconds=round(time.time() - t0, 1), lr=sched.get_last_lr()[0])
        if (epoch + 1) % args.eval_every == 0 or epoch + 1 == recipe["epochs"]:
            # Monitoring only (no model selection): the recipe is fixed in advance.
            te = time.time()
            m = evaluate(model, x_tr, y_tr, x_te, y_te)
            rec["test"] = {k: m[k] for k in ("hit@1", "hit@5", "mrr", "classifier_accuracy")}
            rec["eval_seconds"] = round(time.time() - te, 1)
        history.append(rec)
        log(f"epoch {epoch + 1} done in {rec['seconds']}s: " + json.dumps(
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec.items()}))
        state = {"model": model.state_dict(), "proxies": proxies.data, "opt": opt.state_dict(),
                 "sched": sched.state_dict(), "epoch": epoch, "history": history, "recipe": recipe}
        torch.save(state, CKPT_DIR / "last.pt.tmp")
        (CKPT_DIR / "last.pt.tmp").replace(last)

    torch.save({"model": model.state_dict(), "history": history, "recipe": recipe}, CKPT_DIR / "final.pt.tmp")
    (CKPT_DIR / "final.pt.tmp").replace(final)
    write_json(CKPT_DIR / "history.json", {"recipe": recipe, "history": history,
                                           "train_seconds": sum(h["seconds"] for h in history)})
    log(f"image model trained: {final}")


if __name__ == "__main__":
    main()
