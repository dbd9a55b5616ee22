"""Decoding the soundtrack of a media file with PyAV.

Two readers, for two users:

- :func:`read_audio` (the inferencer): the first audio stream as float32 at
  its own rate and channels, with its offset from the first video frame.
- :func:`read_reference_audio` (AVSBench preparation): the 16 kHz int16
  soundtrack AVSBench computed its features from. The reference read it
  through moviepy: FFmpeg resamples it to 44.1 kHz stereo 16-bit, then 16 kHz
  samples are *picked* at the nearest 44.1 kHz index
  (``round(44100 * k / 16000)``, no low-pass filter) and clipped to ``±0.99``
  full scale (``mode='reference'``). ``mode='resample'`` instead resamples
  straight to 16 kHz with FFmpeg's band-limited resampler: cleaner, but not
  what the released features were made with.

WAV files (the datasets' on-the-fly audio) are read by
:func:`mmavs.media.waveform.read_wav`.
"""
from typing import Optional, Tuple

import numpy as np

from .errors import MediaError, import_av
from .video import open_container, stream_start
from .vggish_logmel import MIN_AUDIO_SECONDS, SAMPLE_RATE

# moviepy decodes soundtracks at this rate, in stereo, before picking samples.
REFERENCE_DECODE_RATE = 44100
# moviepy clips samples to +-0.99 full scale before writing 16-bit PCM.
REFERENCE_CLIP = int(0.99 * 32768)
AUDIO_MODES = ('reference', 'resample')


def read_audio(path: str) -> Tuple[np.ndarray, int, float]:
    """Decode the first audio stream of ``path``.

    Returns:
        tuple: The waveform ``(num_samples, channels)`` float32 in [-1, 1],
        its sample rate, and its start relative to the first video frame's
        stream start, in seconds.

    Raises:
        MediaError: No audio stream, undecodable audio, or less than
            :data:`~mmavs.media.vggish_logmel.MIN_AUDIO_SECONDS` of it.
    """
    av = import_av()
    chunks = []
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(path, 'has no audio track')
        stream = container.streams.audio[0]
        offset = stream_start(stream) - (stream_start(
            container.streams.video[0]) if container.streams.video else 0.0)
        resampler = None
        sample_rate = stream.codec_context.sample_rate
        try:
            for frame in container.decode(stream):
                # Convert any sample format to float planar, same rate and
                # channels; mono mixing and resampling happen later, once.
                if resampler is None:
                    sample_rate = frame.sample_rate
                    resampler = av.AudioResampler(
                        format='fltp', layout=frame.layout.name,
                        rate=frame.sample_rate)
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray())
        except av.FFmpegError as err:
            raise MediaError(
                path, f'cannot decode the audio: {err}') from err
    wave = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, 1))
    seconds = wave.shape[0] / float(sample_rate or 1)
    if seconds < MIN_AUDIO_SECONDS:
        raise MediaError(
            path, f'has {seconds:.2f} s of audio, shorter than one second: '
            f'one frame needs {MIN_AUDIO_SECONDS:.3f} s of sound')
    return wave.astype(np.float32), int(sample_rate), offset


def decode_audio(path: str, rate: int, layout: Optional[str]) -> np.ndarray:
    """Decode the first audio stream to int16 ``(samples, channels)``.

    Args:
        path: Media file.
        rate: Output sample rate (FFmpeg's resampler).
        layout: Output channel layout (``'stereo'``), or None to keep the
            stream's own.

    Returns:
        np.ndarray: The samples, from the stream's first decoded one.

    Raises:
        MediaError: No audio stream, or one without samples.
    """
    av = import_av()
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(path, 'no audio stream')
        stream = container.streams.audio[0]
        layout = layout or stream.layout.name
        resampler = av.AudioResampler(format='s16', layout=layout, rate=rate)
        channels = len(av.AudioLayout(layout).channels)
        chunks = []
        for frame in container.decode(stream):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        raise MediaError(path, 'the audio stream holds no samples')
    # Packed s16 frames come as (1, samples * channels), interleaved.
    samples = np.concatenate([c.reshape(-1) for c in chunks])
    return samples.reshape(-1, channels)


def read_reference_audio(path: str,
                         mode: str = 'reference',
                         start: float = 0.0) -> np.ndarray:
    """The 16 kHz int16 soundtrack AVSBench computed its features from.

    Args:
        path: Video (or audio) file.
        mode: ``'reference'`` (moviepy's nearest-sample pick from 44.1 kHz
            stereo, clipped at 0.99) or ``'resample'`` (FFmpeg's resampler
            straight to 16 kHz, channels kept).
        start: Seconds to skip first (untrimmed videos).

    Returns:
        np.ndarray: ``(samples, channels)`` int16 at 16 kHz.
    """
    if mode not in AUDIO_MODES:
        raise ValueError(f'mode must be one of {AUDIO_MODES}, got {mode!r}')
    if mode == 'resample':
        wave = decode_audio(path, SAMPLE_RATE, None)
        return wave[int(round(start * SAMPLE_RATE)):]
    wave = decode_audio(path, REFERENCE_DECODE_RATE, 'stereo')
    wave = wave[int(round(start * REFERENCE_DECODE_RATE)):]
    num = int(SAMPLE_RATE * len(wave) / REFERENCE_DECODE_RATE)
    picks = np.round(
        REFERENCE_DECODE_RATE * np.arange(num) / SAMPLE_RATE).astype(int)
    picks = picks[picks < len(wave)]
    return np.clip(wave[picks], -REFERENCE_CLIP, REFERENCE_CLIP)
