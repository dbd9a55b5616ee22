import pytest
import torch

from mmavs.models.utils.point_sample import point_sample, uncertain_points


def test_point_sample_reads_pixel_centres_as_x_y():
    h, w = 3, 4
    cols = torch.arange(w, dtype=torch.float32).expand(h, w)
    rows = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w)
    maps = torch.stack((cols, rows))[None]  # (1, 2, H, W)
    points = torch.tensor([[[(2 + 0.5) / w, (1 + 0.5) / h],
                            [(0 + 0.5) / w, (2 + 0.5) / h]]])
    out = point_sample(maps, points)
    assert out.shape == (1, 2, 2)
    torch.testing.assert_close(out[0, 0], torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(out[0, 1], torch.tensor([1.0, 2.0]))
    # Between two centres: bilinear.
    mid = point_sample(maps, torch.tensor([[[2.0 / w, 0.5 / h]]]))
    torch.testing.assert_close(mid[0, 0], torch.tensor([1.5]))


def test_uncertain_points_prefer_logits_near_zero():
    logits = torch.full((2, 1, 32, 32), 20.0)
    logits[:, :, :, :16] = 0.0  # uncertain left half (x < 0.5)
    logits[1] = -logits[1]
    gen = torch.Generator().manual_seed(0)
    points = uncertain_points(logits, 100, oversample_ratio=3.0,
                              importance_ratio=0.5, generator=gen)
    assert points.shape == (2, 100, 2)
    assert points.min() >= 0 and points.max() <= 1
    # The 50 importance points lie in the uncertain half (~150 candidates
    # land there); then come 50 uniform ones.
    assert (points[:, :50, 0] < 0.5).all()
    again = uncertain_points(logits, 100, 3.0, 0.5,
                             torch.Generator().manual_seed(0))
    torch.testing.assert_close(points, again)


def test_uncertain_points_no_grad():
    logits = torch.randn(3, 1, 8, 8, requires_grad=True)
    points = uncertain_points(logits, 10)
    assert not points.requires_grad and points.shape == (3, 10, 2)


def test_matches_mmcv_point_sample():
    import mmavs  # noqa: F401  (installs the mmcv._ext stand-in)
    ops = pytest.importorskip('mmcv.ops')
    maps, points = torch.randn(2, 3, 7, 9), torch.rand(2, 50, 2)
    torch.testing.assert_close(
        point_sample(maps, points),
        ops.point_sample(maps, points, align_corners=False))
