import numpy as np
import pytest

from mmavs.visualization import draw_overlay, mask_boundary


def test_boundary_of_a_square():
    mask = np.zeros((6, 6), bool)
    mask[1:5, 1:5] = True
    edge = mask_boundary(mask)
    assert edge.sum() == 12  # 4x4 square: 16 pixels, 4 inside
    assert not edge[2:4, 2:4].any()


def test_overlay_tints_inside_and_outlines():
    image = np.full((6, 6, 3), 100, np.uint8)
    mask = np.zeros((6, 6), np.uint8)
    mask[1:5, 1:5] = 1
    out = draw_overlay(image, mask, color=(200, 0, 0), alpha=0.5)
    assert out.dtype == np.uint8 and image[0, 0, 0] == 100  # input kept
    assert (out[0, 0] == 100).all()  # outside untouched
    assert out[2, 2].tolist() == [150, 50, 50]  # inside blended
    assert out[1, 1].tolist() == [200, 0, 0]  # outline solid
    with pytest.raises(ValueError, match='differ in size'):
        draw_overlay(image, mask[:5])
