"""Saving DiffusionAVS's per-frame uncertainty next to the test overlays."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmseg.registry import HOOKS
from PIL import Image

# The standard deviation of probabilities is at most 0.5: full scale.
MAX_STD = 0.5


def uncertainty_image(std: np.ndarray) -> np.ndarray:
    """``(H, W)`` standard deviation → ``(H, W, 3)`` uint8 heat map (RGB).

    Black is certain; the colour runs through red to yellow-white as the
    samples disagree more.
    """
    x = np.clip(std / MAX_STD, 0.0, 1.0)
    rgb = np.stack([np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1),
                    np.clip(3 * x - 2, 0, 1)], axis=-1)
    return (rgb * 255).round().astype(np.uint8)


@HOOKS.register_module()
class UncertaintyVisualizationHook(Hook):
    """Write ``<frame>_uncertainty.png`` for test frames that carry one.

    Frames get an ``uncertainty`` field when the model samples several
    latents (``model.neck.num_samples > 1``); others are skipped.

    Args:
        out_dir: Folder of the images (``tools/test.py --show-dir`` uses the
            folder of the overlays).
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_test_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            if 'uncertainty' not in sample:
                continue
            std = sample.uncertainty.data[0].detach().cpu().numpy()
            name = osp.splitext(osp.basename(sample.img_path))[0]
            os.makedirs(self.out_dir, exist_ok=True)
            Image.fromarray(uncertainty_image(std)).save(
                osp.join(self.out_dir, f'{name}_uncertainty.png'))
