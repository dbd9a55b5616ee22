"""Drawing predicted masks on frames."""
from typing import Tuple

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
