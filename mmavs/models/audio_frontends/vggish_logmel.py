"""The VGGish log-mel front end as a module, for waveforms read on the fly."""
import math

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmavs.media import vggish_logmel as vl


@MODELS.register_module()
class VGGishLogMelFrontEnd(nn.Module):
    """Per-frame 16 kHz waveforms to one VGGish log-mel example each.

    Shapes (``docs/en/architecture.md``): ``(N, A, S)`` with
    ``S >= 15600`` samples (0.975 s; a 1-s window per frame is the usual
    input) → ``(N, 1, 96, 64)``: the channels are averaged, then the
    arithmetic of :mod:`mmavs.media.vggish_logmel` (25 ms periodic Hann,
    10 ms hop, no padding, 512-point magnitude FFT, VGGish mel matrix,
    ``log(mel + 0.01)``) gives the example of the window's first 0.975 s,
    equal to ``waveform_to_examples(window, 16000)[0]`` (tested to 1e-5;
    computed in float64).

    Use it with ``AudioVisualBackbone(audio_frontend=...)`` and the frozen
    VGGish when the pipeline loads waveforms (``LoadAudioWaveform``);
    precomputed or pipeline-made features (``LoadAVSAudio``,
    ``VGGishLogMel``) need no front end.
    """

    def __init__(self) -> None:
        super().__init__()
        self.window = int(round(vl.SAMPLE_RATE * vl.WINDOW_SECONDS))
        self.hop = int(round(vl.SAMPLE_RATE * vl.HOP_SECONDS))
        self.fft_length = 2**int(math.ceil(math.log2(self.window)))
        self.register_buffer(
            'hann', torch.from_numpy(vl.periodic_hann(self.window)),
            persistent=False)
        self.register_buffer(
            'mel', torch.from_numpy(
                vl.mel_matrix(self.fft_length // 2 + 1, vl.SAMPLE_RATE)),
            persistent=False)

    def forward(self, wave: Tensor) -> Tensor:
        """``(N, A, S)`` → ``(N, 1, 96, 64)`` float32.

        Raises:
            ValueError: ``wave`` is not 3-D or shorter than one example.
        """
        if wave.dim() != 3 or wave.shape[-1] < vl.EXAMPLE_SAMPLES:
            raise ValueError(
                'VGGishLogMelFrontEnd expects 16 kHz waveforms (N, A, S) '
                f'with S >= {vl.EXAMPLE_SAMPLES}, got {tuple(wave.shape)}')
        with torch.autocast(wave.device.type, enabled=False):
            mono = wave.double().mean(dim=1)[:, :vl.EXAMPLE_SAMPLES]
            frames = mono.unfold(-1, self.window, self.hop) * self.hann
            magnitude = torch.fft.rfft(frames, self.fft_length).abs()
            log_mel = torch.log(magnitude @ self.mel + vl.LOG_OFFSET)
        return log_mel[:, None].float()
