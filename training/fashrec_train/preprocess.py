"""Reference implementation of the image preprocessing in models/manifest.json.

One definition for every input: a shop photo (RGB or RGBA, any size, product on a light
background) and a catalog image (28x28 grayscale, bright product on black, Fashion-MNIST
polarity) both go through the same steps, so the extension never has to guess which kind of image
it was given. The steps follow the way Fashion-MNIST itself was made (trim, resize the longest
edge, centre on a square canvas, negate, grayscale):

1. Decode; apply the EXIF orientation, if any; composite an alpha channel over white; luma L = 0.299 R + 0.587 G + 0.114 B in f64
   (ITU-R BT.601, no rounding). A grayscale image is its own luma.
2. Background b = median of the four corner pixels of L (mean of the 2nd and 3rd smallest).
3. Polarity: if b >= 128 (light background) x = max(b - L, 0), else x = max(L - b, 0).
   A photo on white is thereby negated; a Fashion-MNIST image (b = 0) is left as it is.
4. m = max(x). If m < MIN_CONTRAST the image shows no product: an error.
5. Trim: the bounding box of the pixels with x > TRIM_THRESHOLD * m; crop x to it.
6. Resize the crop (h x w) so its longest edge is 28: the other edge is
   max(1, (2 * 28 * short + long) // (2 * long)) (round half up, integers). Area averaging,
   separable: output pixel i of an axis n_in -> n_out covers the source interval
   [i * s, (i + 1) * s) with s = n_in / n_out, and is the mean of the source over it, a source
   pixel j counting with the length of [j, j + 1) inside that interval (see area_weights).
7. Centre on a 28x28 canvas of zeros at top = (28 - nh) // 2, left = (28 - nw) // 2.
8. Scale: y = canvas / max(canvas), so the brightest pixel is 1.0. The model input is y as
   float32 [1, 1, 28, 28] (N C H W).

The arithmetic here is float64 for clarity; float32 in Rust agrees to about 1e-6 per pixel.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageOps

CANVAS = 28
TRIM_THRESHOLD = 0.15  # fraction of the image's maximum signal
MIN_CONTRAST = 8.0  # on the 0..255 scale: below it the image is blank
LIGHT_BACKGROUND = 128.0  # corner median at or above it: product on a light background
LUMA = (0.299, 0.587, 0.114)


class PreprocessError(ValueError):
    pass


def luma_from_pil(img: Image.Image) -> np.ndarray:
    """Step 1: an image as f64 luma (H, W), alpha composited over white."""
    if img.mode in ("L", "I;16", "I", "F"):
        return np.asarray(img.convert("F"), dtype=np.float64)
    if img.mode in ("LA", "RGBA", "PA", "P") or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float64)
        a = rgba[..., 3:4] / 255.0
        rgb = rgba[..., :3] * a + 255.0 * (1.0 - a)
    else:
        rgb = np.asarray(img.convert("RGB"), dtype=np.float64)
    return rgb[..., 0] * LUMA[0] + rgb[..., 1] * LUMA[1] + rgb[..., 2] * LUMA[2]


@functools.lru_cache(maxsize=None)
def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix of step 6: row i averages source interval [i*s, (i+1)*s)."""
    s = n_in / n_out
    w = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        lo, hi = i * s, (i + 1) * s
        j0, j1 = int(np.floor(lo)), min(int(np.ceil(hi)), n_in)
        for j in range(j0, j1):
            w[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
        w[i] /= s
    return w


def resized_shape(h: int, w: int, size: int = CANVAS) -> tuple[int, int]:
    """Step 6's output size: longest edge `size`, the other rounded half up, at least 1."""
    long_, short = max(h, w), min(h, w)
    short_out = max(1, (2 * size * short + long_) // (2 * long_))
    return (size, short_out) if h >= w else (short_out, size)


def canonical_from_luma(lum: np.ndarray) -> np.ndarray:
    """Steps 2-8 on a luma image: the (28, 28) model input in [0, 1], float32."""
    return canonical_with_details(lum)[0]


def canonical_with_details(lum: np.ndarray) -> tuple[np.ndarray, dict]:
    """Steps 2-8, and the intermediate values (for reference tests of other implementations)."""
    lum = np.asarray(lum, dtype=np.float64)
    if lum.ndim != 2 or lum.shape[0] < 1 or lum.shape[1] < 1:
        raise PreprocessError("image must be two-dimensional and non-empty")
    corners = np.sort([lum[0, 0], lum[0, -1], lum[-1, 0], lum[-1, -1]])
    b = 0.5 * (corners[1] + corners[2])
    light = bool(b >= LIGHT_BACKGROUND)
    x = np.maximum(b - lum, 0.0) if light else np.maximum(lum - b, 0.0)
    m = x.max()
    if m < MIN_CONTRAST:
        raise PreprocessError("no product visible: the image has (almost) no contrast")
    mask = x > TRIM_THRESHOLD * m
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    nh, nw = resized_shape(h, w)
    small = area_weights(h, nh) @ crop @ area_weights(w, nw).T
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.float64)
    top, left = (CANVAS - nh) // 2, (CANVAS - nw) // 2
    canvas[top : top + nh, left : left + nw] = small
    details = {"width": int(lum.shape[1]), "height": int(lum.shape[0]), "background": float(b),
               "light_background": light, "max_signal": float(m),
               "trim_box": {"top": int(rows[0]), "left": int(cols[0]), "height": int(h), "width": int(w)},
               "resized": {"height": int(nh), "width": int(nw)},
               "placed_at": {"top": int(top), "left": int(left)}, "canvas_max": float(canvas.max())}
    return (canvas / canvas.max()).astype(np.float32), details


def decode(data: bytes) -> Image.Image:
    """Step 1's decoding: encoded bytes (JPEG, PNG, ...) to an image the way it is meant to be
    seen, its EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return ImageOps.exif_transpose(img)


def canonical_from_bytes(data: bytes) -> np.ndarray:
    """The whole pipeline from encoded image bytes."""
    return canonical_from_luma(luma_from_pil(decode(data)))


def canonical_batch_u8(images: np.ndarray) -> np.ndarray:
    """Catalog images (N, 28, 28) uint8, Fashion-MNIST polarity -> (N, 28, 28) float32."""
    out = np.empty(images.shape, dtype=np.float32)
    for k, img in enumerate(images):
        try:
            out[k] = canonical_from_luma(img)
        except PreprocessError as e:
            raise PreprocessError(f"catalog image {k}: {e}") from e
    return out
