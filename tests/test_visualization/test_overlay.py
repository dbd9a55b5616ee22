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


def test_class_overlay_uses_the_palette_and_a_legend():
    from mmavs.datasets.avss import avss_palette
    from mmavs.visualization import draw_class_overlay
    palette = avss_palette()
    image = np.full((40, 80, 3), 100, np.uint8)
    classes = np.zeros((40, 80), np.int64)
    classes[20:30, 10:20] = 1
    classes[20:30, 50:60] = 9
    out = draw_class_overlay(image, classes, palette, alpha=1.0)
    assert out[25, 15].tolist() == palette[1].tolist()
    assert out[25, 55].tolist() == palette[9].tolist()
    assert (out[5, 70] == 100).all()  # background untouched
    names = ['background'] + [f'class{i}' for i in range(1, 71)]
    legend = draw_class_overlay(image, classes, palette, names, alpha=1.0)
    # The legend box (top left) holds a swatch of each class present.
    box = legend[:28, :40].reshape(-1, 3).tolist()
    assert palette[1].tolist() in box and palette[9].tolist() in box
    assert (legend[25, 55] == out[25, 55]).all()
    with pytest.raises(ValueError, match='differ in size'):
        draw_class_overlay(image, classes[:5], palette)
