"""Drawing predicted masks (binary) and class maps (AVSS) on frames."""
from typing import Optional, Sequence, Tuple

import numpy as np

SOUNDING_COLOR = (255, 96, 0)  # RGB orange: stands out on most scenes


def mask_boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (or on the border).

    Args:
        mask: ``(H, W)`` boolean.

    Returns:
        np.ndarray: ``(H, W)`` boolean outline.
    """
    padded = np.pad(mask, 1, constant_values=False)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2]
                & padded[1:-1, 2:])
    return mask & ~interior


def draw_overlay(image: np.ndarray,
                 mask: np.ndarray,
                 color: Tuple[int, int, int] = SOUNDING_COLOR,
                 alpha: float = 0.5) -> np.ndarray:
    """Tint the masked pixels of a frame and outline them.

    Args:
        image: ``(H, W, 3)`` uint8, in the channel order of ``color``.
        mask: ``(H, W)``, non-zero where the object sounds.
        color: Tint and outline colour.
        alpha: Weight of the tint inside the mask.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8, a new array.
    """
    if mask.shape != image.shape[:2]:
        raise ValueError(f'mask {mask.shape} and image {image.shape[:2]} '
                         'differ in size')
    mask = mask.astype(bool)
    out = image.astype(np.float32)
    tint = np.asarray(color, dtype=np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * tint
    # The outline keeps thin or low-contrast masks visible.
    out[mask_boundary(mask)] = tint
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def draw_class_overlay(image: np.ndarray,
                       class_map: np.ndarray,
                       palette: Sequence[Sequence[int]],
                       class_names: Optional[Sequence[str]] = None,
                       alpha: float = 0.5,
                       background: int = 0) -> np.ndarray:
    """Tint each predicted class with its palette colour, outline it, and
    list the classes present in a legend (top-left corner).

    Args:
        image: ``(H, W, 3)`` uint8, in the channel order of ``palette``
            (AVSS: RGB, the Pascal-VOC colour map of its masks).
        class_map: ``(H, W)`` class indices (AVSS: 0..70).
        palette: One colour per class.
        class_names: Names for the legend; None: no legend.
        alpha: Weight of the tint inside each class.
        background: Class left untinted and out of the legend.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8, a new array.
    """
    if class_map.shape != image.shape[:2]:
        raise ValueError(f'class map {class_map.shape} and image '
                         f'{image.shape[:2]} differ in size')
    out = image.copy()
    present = [int(c) for c in np.unique(class_map) if c != background]
    for cls in present:
        out = draw_overlay(out, class_map == cls, tuple(palette[cls]), alpha)
    if class_names is not None and present:
        out = draw_legend(out, [(class_names[c], tuple(palette[c]))
                                for c in present])
    return out


def draw_legend(image: np.ndarray,
                entries: Sequence[Tuple[str, Tuple[int, int, int]]]
                ) -> np.ndarray:
    """A colour swatch and a name per entry, on a dark box at the top left
    (PIL's built-in font: no font file needed)."""
    from PIL import Image, ImageDraw
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    line, pad = 12, 2
    width = max(draw.textlength(name) for name, _ in entries) + line + 3 * pad
    height = line * len(entries) + 2 * pad
    draw.rectangle([0, 0, int(width), height], fill=(0, 0, 0))
    for i, (name, color) in enumerate(entries):
        top = pad + i * line
        draw.rectangle([pad, top + 1, pad + line - 3, top + line - 2],
                       fill=tuple(int(c) for c in color))
        draw.text((2 * pad + line, top), name, fill=(255, 255, 255))
    return np.asarray(canvas).copy()
