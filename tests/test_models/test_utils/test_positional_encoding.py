import math

import torch

from mmavs.models.utils.positional_encoding import sine_positional_encoding


def test_values_by_hand():
    mask = torch.zeros(1, 2, 3, dtype=torch.bool)
    pos = sine_positional_encoding(mask, num_feats=4, temperature=100)
    assert pos.shape == (1, 8, 2, 3)
    # Pixel (row 1, col 2): y = 2, x = 3; frequencies 100^(0, 0, .5, .5).
    y, x = 2.0, 3.0
    expected = [math.sin(y), math.cos(y), math.sin(y / 10), math.cos(y / 10),
                math.sin(x), math.cos(x), math.sin(x / 10), math.cos(x / 10)]
    torch.testing.assert_close(pos[0, :, 1, 2], torch.tensor(expected))


def test_padding_leaves_valid_part_unchanged():
    plain = sine_positional_encoding(torch.zeros(1, 3, 4, dtype=torch.bool))
    mask = torch.ones(1, 5, 6, dtype=torch.bool)
    mask[:, :3, :4] = False
    padded = sine_positional_encoding(mask)
    torch.testing.assert_close(padded[..., :3, :4], plain)


def test_normalised_positions_end_at_scale():
    pos = sine_positional_encoding(torch.zeros(1, 4, 4, dtype=torch.bool),
                                   num_feats=2, normalize=True, scale=1.0)
    # First feature of each axis is sin(position); the last row/column is 1.
    torch.testing.assert_close(pos[0, 0, -1, 0], torch.tensor(math.sin(1.0)),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(pos[0, 2, 0, -1], torch.tensor(math.sin(1.0)),
                               atol=1e-5, rtol=0)
