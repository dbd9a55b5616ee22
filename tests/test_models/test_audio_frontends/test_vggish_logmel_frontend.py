"""VGGishLogMelFrontEnd equals the numpy VGGish front end."""
import numpy as np
import pytest
import torch

from mmavs.media import waveform_to_examples
from mmavs.models import VGGishLogMelFrontEnd


def test_equals_the_numpy_front_end_per_window():
    rng = np.random.default_rng(0)
    wave = rng.normal(0, 0.1, (3, 2, 16000))  # 3 frames, stereo, 1 s each
    out = VGGishLogMelFrontEnd()(torch.from_numpy(wave).float())
    assert out.shape == (3, 1, 96, 64) and out.dtype == torch.float32
    for n in range(3):
        # The numpy path mixes the channels itself: (samples, channels).
        expected = waveform_to_examples(
            wave[n].T.astype(np.float32), 16000)[0]
        np.testing.assert_allclose(out[n].numpy(), expected, atol=1e-5)


def test_needs_one_example_of_sound():
    with pytest.raises(ValueError, match='S >= 15600'):
        VGGishLogMelFrontEnd()(torch.zeros(1, 1, 15599))
