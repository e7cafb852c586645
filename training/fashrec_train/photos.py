"""Render catalog images as shop "photos", to measure the preprocessing on realistic input.

A Fashion-MNIST image (bright product on black) becomes a product of a random colour on a white
or off-white background: the product is blended over the background with its pixel value as the
opacity, the 28x28 image is upscaled (bicubic) to 360-440 px, placed at a random offset on a larger
canvas of the background colour and saved as JPEG (quality 80, 4:2:0). Every choice comes from a
generator seeded by (seed, product id), so the photo set is the same on every run.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

# Product colours (sRGB): the catalog's colours, dark to light.
PALETTE = {
    "black": (20, 20, 20),
    "navy": (25, 35, 90),
    "burgundy": (110, 20, 40),
    "brown": (110, 70, 40),
    "olive": (100, 110, 40),
    "green": (30, 130, 60),
    "red": (200, 30, 40),
    "blue": (40, 90, 200),
    "grey": (128, 128, 128),
    "tan": (190, 140, 90),
    "pink": (230, 120, 160),
    "yellow": (235, 200, 40),
    "beige": (210, 190, 150),
}

JPEG_QUALITY = 80


def render_photo(image_u8: np.ndarray, rng: np.random.Generator, fmt: str = "JPEG") -> tuple[bytes, dict]:
    """One 28x28 Fashion-MNIST image -> JPEG (or lossless PNG) bytes of a photo, and what was chosen."""
    names = list(PALETTE)
    colour_name = names[int(rng.integers(len(names)))]
    colour = np.array(PALETTE[colour_name], dtype=np.float64)
    # White or a slightly warm/cool off-white background.
    base = float(rng.uniform(238.0, 255.0))
    cast = rng.uniform(-4.0, 4.0, size=3)
    bg = np.clip(base + cast, 0.0, 255.0)
    alpha = image_u8.astype(np.float64)[..., None] / 255.0
    rgb = bg * (1.0 - alpha) + colour * alpha
    small = Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")
    size = int(rng.integers(360, 441))
    big = small.resize((size, size), Image.Resampling.BICUBIC)
    cw = size + int(rng.integers(40, 241))
    ch = size + int(rng.integers(40, 241))
    canvas = Image.new("RGB", (cw, ch), tuple(int(round(v)) for v in bg))
    ox = int(rng.integers(0, cw - size + 1))
    oy = int(rng.integers(0, ch - size + 1))
    canvas.paste(big, (ox, oy))
    buf = io.BytesIO()
    if fmt == "JPEG":
        canvas.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:
        canvas.save(buf, format=fmt)
    info = {"colour": colour_name, "background": [round(v, 1) for v in bg.tolist()],
            "size": size, "canvas": [cw, ch], "offset": [ox, oy]}
    return buf.getvalue(), info


def photo_rng(seed: int, product_id: int) -> np.random.Generator:
    return np.random.default_rng([seed, product_id])
