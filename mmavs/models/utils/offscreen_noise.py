"""Off-screen noise for CPM's audio conditional prompting (ACP, ``cpm.md``
§5).

Each frame's sound is mixed with an *off-screen* sound: the audio of another
sample of the batch whose foreground classes are disjoint from the frame's
(:func:`pick_offscreen_partners`), or a clip of an optional local list of WAV
files (:class:`NoiseList`; nothing is ever downloaded). The mixture is made in
the magnitude domain and gives the ratio-mask target of ACP
(:func:`mix_magnitudes`).
"""
from typing import List, Optional, Sequence, Set, Union

import numpy as np
import torch
from torch import Tensor

from mmavs.media.errors import MediaError
from mmavs.media.waveform import (fit_length, read_wav, resample,
                                  select_channels, to_float)


def _randint(high: int, generator: Optional[torch.Generator]) -> int:
    return int(torch.randint(high, (1, ), generator=generator))


def pick_offscreen_partners(class_sets: Sequence[Set[int]],
                            generator: Optional[torch.Generator] = None,
                            max_tries: int = 10) -> Tensor:
    """For each sample, another sample of the batch to borrow noise from.

    Sample ``i`` draws a partner ``j != i`` uniformly; if the foreground
    classes of ``j`` intersect those of ``i`` it draws again, up to
    ``max_tries`` draws in all, and keeps the last draw otherwise (``cpm.md``
    §5: re-drawn up to 10 times, else any other sample). An empty set is
    disjoint from every set.

    Args:
        class_sets: ``B`` sets of foreground class ids (leave background out:
            it is on screen in every frame).
        generator: Optional CPU generator for reproducible draws.
        max_tries: Draws per sample (>= 1).

    Returns:
        ``(B,)`` long on the CPU: the partner of each sample. With ``B = 1``
        there is no other sample and the result is ``[-1]``: the caller
        then uses a clip of a :class:`NoiseList` if it has one, else silence
        (zero noise, ratio target 1), or skips ACP for that frame.
    """
    if max_tries < 1:
        raise ValueError('max_tries must be >= 1')
    num = len(class_sets)
    partners = torch.full((num, ), -1, dtype=torch.long)
    if num < 2:
        return partners
    for i, own in enumerate(class_sets):
        own = set(own)
        for _ in range(max_tries):
            j = _randint(num - 1, generator)
            j += j >= i  # uniform over the others
            if not own & set(class_sets[j]):
                break
        partners[i] = j
    return partners


def mix_magnitudes(spec: Tensor, noise: Tensor,
                   eps: float = 1e-8) -> tuple:
    """Mix magnitude spectrograms and give ACP's ratio-mask target.

    ``a_p = S_i + S_j`` and ``r = S_i / a_p`` (``cpm.md`` §5, Eq. 5), with
    ``r = 1`` where the mixture is below ``eps`` (a silent bin: nothing but
    the frame's own sound is there), clipped to ``[0, 1]``. Zero noise gives
    ``r = 1`` exactly. The network's input is then ``log(a_p + 1e-5)``.

    Args:
        spec: ``(B, C, T, F)`` non-negative mel magnitudes of the frames.
        noise: ``(B, C, T, F)`` non-negative mel magnitudes of the noise.
        eps: Silence threshold of the mixture.

    Returns:
        ``(mixed (B, C, T, F), ratio_target (B, C, T, F))``.
    """
    if spec.shape != noise.shape:
        raise ValueError(f'spec {tuple(spec.shape)} and noise '
                         f'{tuple(noise.shape)} differ in shape')
    mixed = spec + noise
    ratio = torch.where(mixed > eps, spec / mixed.clamp_min(eps),
                        torch.ones_like(spec))
    return mixed, ratio.clamp(0.0, 1.0)


class NoiseList:
    """Local WAV files to draw off-screen noise from (``noise_source=
    'list'``, e.g. VGGSound clips of classes absent from the dataset).

    Every file is checked to exist when the list is built (a missing file
    is an error, never a download). Clips are read with
    :mod:`mmavs.media.waveform`, converted to float, resampled, mixed to
    mono or kept stereo (a mono file is copied to both channels: off-screen
    noise has no side), and tiled or cut to ``num_samples``
    (a random window of longer files).

    Args:
        noise_list: WAV paths, or the path of a text file with one WAV path
            per line (relative paths are relative to that file).
        sample_rate: Output rate (16 kHz, CPM's front end).
        channels: 1 (mono) or 2 (stereo).
        num_samples: Samples per clip (16,000 for 1 s; 48,000 for VPO's 3 s).
        cache: Keep decoded files in memory.
    """

    def __init__(self,
                 noise_list: Union[str, Sequence[str]],
                 sample_rate: int = 16000,
                 channels: int = 1,
                 num_samples: int = 16000,
                 cache: bool = True) -> None:
        import os.path as osp
        if isinstance(noise_list, str):
            if not osp.isfile(noise_list):
                raise MediaError(noise_list, 'noise list not found')
            root = osp.dirname(noise_list)
            with open(noise_list, encoding='utf-8') as f:
                files = [line.strip() for line in f if line.strip()]
            files = [p if osp.isabs(p) else osp.join(root, p) for p in files]
        else:
            files = list(noise_list)
        if not files:
            raise ValueError('the noise list is empty')
        for path in files:
            if not osp.isfile(path):
                raise MediaError(path, 'noise file not found')
        if channels not in (1, 2):
            raise ValueError(f'channels must be 1 or 2, got {channels}')
        self.files: List[str] = files
        self.sample_rate = sample_rate
        self.channels = channels
        self.num_samples = num_samples
        self._cache = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, index: int) -> np.ndarray:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        path = self.files[index]
        data, rate = read_wav(path)
        data = resample(to_float(data), rate, self.sample_rate)
        if self.channels == 2 and data.shape[1] == 1:
            data = np.repeat(data, 2, axis=1)
        data = select_channels(data, self.channels, path).astype(np.float32)
        if self._cache is not None:
            self._cache[index] = data
        return data

    def load(self, index: int, offset: int = 0) -> Tensor:
        """File ``index`` as ``(channels, num_samples)`` float32, starting at
        sample ``offset`` (shorter audio is tiled)."""
        data = self._read(index)[offset:]
        return torch.from_numpy(
            np.ascontiguousarray(
                fit_length(data, self.num_samples, crop='start',
                           pad='tile').T))

    def draw(self, generator: Optional[torch.Generator] = None) -> Tensor:
        """A random window of a random file, ``(channels, num_samples)``."""
        index = _randint(len(self.files), generator)
        spare = len(self._read(index)) - self.num_samples
        offset = _randint(spare + 1, generator) if spare > 0 else 0
        return self.load(index, offset)
