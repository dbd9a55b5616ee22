import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmavs.engine import UncertaintyVisualizationHook
from mmavs.engine.hooks.uncertainty_hook import uncertainty_image


def test_heat_map_scale():
    image = uncertainty_image(np.array([[0.0, 0.5, 1.0]]))
    assert image.shape == (1, 3, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 0, 0]
    assert image[0, 1].tolist() == [255, 255, 255] == image[0, 2].tolist()


def test_writes_one_image_per_frame_with_uncertainty(tmp_path):
    with_std = SegDataSample(metainfo=dict(img_path='/x/clip_1.png'))
    with_std.uncertainty = PixelData(data=torch.full((1, 4, 4), 0.1))
    without = SegDataSample(metainfo=dict(img_path='/x/clip_2.png'))
    hook = UncertaintyVisualizationHook(str(tmp_path))
    hook.after_test_iter(None, 0, None, [with_std, without])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'clip_1_uncertainty.png']
    image = np.asarray(Image.open(tmp_path / 'clip_1_uncertainty.png'))
    assert image.shape == (4, 4, 3) and image[0, 0, 0] == 153
