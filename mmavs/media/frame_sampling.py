"""The two rules that pick a clip's frames, and their sound, from a video.

They differ on purpose, and sit side by side so that the difference is seen::

                      inference                      AVSBench preparation
                      (iter_sampled_frames)          (read_reference_frames)
    frame k shows     the picture on screen at the   decoded frame number
                      middle of its interval,        int(k*F + 15/16*F),
                      (k + 0.5) / rate s             F = round(fps): near the
                                                     end of second k
    frame k hears     one VGGish example (0.975 s)   VGGish example k of the
                      from k / rate s                whole clip, from 0.96 k s
                      (frame_audio_examples)         (waveform_to_examples)
    frames per s      any rate                       1
    time base         frame timestamps               frame count (constant
                                                     frame rate assumed)
    past the end      a trailing interval counts     the last decoded frame
                      when its middle is inside      is repeated

The preparation rule reproduces the released AVSBench frames exactly (the
reference samples 16 positions per second and keeps the last); the inference
rule is the natural one for a video of any length and frame rate, and agrees
with the preparation rule to within half a second.
"""
from dataclasses import dataclass
from typing import Dict, Iterator, List, Sequence

import numpy as np

from .errors import MediaError, import_av
from .video import frame_rate, open_container
from .vggish_logmel import (EXAMPLE_SAMPLES, EXAMPLE_SHAPE, MIN_AUDIO_SECONDS,
                            SAMPLE_RATE, waveform_to_examples)

# AVSBench stores frames squashed to this square size.
FRAME_SIZE = 224
# The AVSBench reference samples this many positions per second and keeps
# the last.
POSITIONS_PER_SECOND = 16

# ---------------------------------------------------------------------------
# Inference: the frame on screen mid-interval, the sound from its start.
# ---------------------------------------------------------------------------


@dataclass
class SampledFrame:
    """One sampled frame.

    Attributes:
        index: ``k``, the sampling interval.
        start: ``k / rate``, where the interval (and its audio) begins.
        time: Time of the decoded frame shown.
        image: ``(H, W, 3)`` uint8 RGB.
    """
    index: int
    start: float
    time: float
    image: np.ndarray


def count_intervals(duration: float, rate: float) -> int:
    """Intervals of ``1 / rate`` s whose middle lies before ``duration``."""
    return max(0, int(np.ceil(duration * rate - 0.5 - 1e-9)))


def iter_sampled_frames(path: str,
                        rate: float = 1.0) -> Iterator[SampledFrame]:
    """Decode the first video stream and yield one frame per ``1 / rate`` s.

    Sampled frame ``k`` covers the interval ``[k / rate, (k + 1) / rate)``
    and shows the picture on screen at the middle of it (the last decoded
    frame whose time is at most ``(k + 0.5) / rate``). A trailing, partial
    interval counts when its middle lies inside the video. Times are in
    seconds from the first video frame. Frames are decoded one by one and
    only the sampled ones are converted to arrays, so long videos need
    little memory.

    Raises:
        MediaError: Unreadable file, no video stream or no frame.
    """
    if rate <= 0:
        raise ValueError(f'the sampling rate must be positive, got {rate}')
    av = import_av()
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(path, 'has no video stream')
        stream = container.streams.video[0]
        stream.thread_type = 'AUTO'
        step = 1.0 / float(stream.average_rate) if stream.average_rate \
            else 0.0
        index, first, shown = 0, None, None
        try:
            for count, frame in enumerate(container.decode(stream)):
                time = frame.time if frame.time is not None else count * step
                first = time if first is None else first
                time -= first
                # Every interval whose middle has passed gets the frame that
                # was on screen then.
                while shown is not None and time > (index + 0.5) / rate:
                    yield _sample(index, rate, *shown)
                    index += 1
                shown = (time, frame)
        except av.FFmpegError as err:
            raise MediaError(
                path, f'cannot decode the video: {err}') from err
        if shown is None:
            raise MediaError(path, 'no video frame could be decoded')
        end = shown[0] + step
        while index < max(1, count_intervals(end, rate)):
            yield _sample(index, rate, *shown)
            index += 1


def _sample(index: int, rate: float, time: float, frame) -> SampledFrame:
    return SampledFrame(index=index, start=index / rate, time=time,
                        image=frame.to_ndarray(format='rgb24'))


def frame_audio_examples(samples: np.ndarray,
                         starts: Sequence[float]) -> np.ndarray:
    """One VGGish example per frame, read from the frame's start time.

    Args:
        samples: Mono 16 kHz waveform ``(S,)``.
        starts: Start of each frame's second, in seconds. A window that
            would run past the end is moved back to end with the audio.

    Returns:
        np.ndarray: ``(N, 1, 96, 64)`` float32.

    Raises:
        MediaError: Less than one example of audio.
    """
    if samples.shape[0] < EXAMPLE_SAMPLES:
        raise MediaError(
            None, f'{samples.shape[0] / SAMPLE_RATE:.2f} s of audio is '
            f'shorter than one second: one frame needs '
            f'{MIN_AUDIO_SECONDS:.3f} s')
    last = samples.shape[0] - EXAMPLE_SAMPLES
    examples = []
    for start in starts:
        begin = min(max(int(round(start * SAMPLE_RATE)), 0), last)
        examples.append(waveform_to_examples(
            samples[begin:begin + EXAMPLE_SAMPLES], SAMPLE_RATE))
    return np.concatenate(examples) if examples else \
        np.zeros((0, ) + EXAMPLE_SHAPE, np.float32)


# ---------------------------------------------------------------------------
# AVSBench preparation: frame int(k*F + 15/16*F), squashed to 224x224.
# ---------------------------------------------------------------------------


def reference_frame_index(second: int, fps: float) -> int:
    """Index of the frame the reference keeps for ``second`` (0-based).

    Args:
        second: Second of the clip, from 0.
        fps: The video's frame rate; rounded to an integer first, as the
            reference does.

    Returns:
        int: ``int(second * F + 15/16 * F)`` with ``F = round(fps)``.
    """
    interval = int(round(fps))
    last = (POSITIONS_PER_SECOND - 1) / POSITIONS_PER_SECOND
    return int(second * interval + last * interval)


def _squash(frame, size: int) -> np.ndarray:
    """A frame as RGB ``(size, size, 3)`` uint8, resized as the reference."""
    import cv2

    # FFmpeg's command-line tools convert pixel formats with bicubic
    # interpolation; the reference decoded through them.
    rgb = frame.to_ndarray(format='rgb24', interpolation='BICUBIC')
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)


def read_reference_frames(path: str,
                          num_frames: int = 5,
                          size: int = FRAME_SIZE,
                          start: float = 0.0) -> List[np.ndarray]:
    """Decode a video and keep one frame per second, as AVSBench did.

    Every frame is decoded in order and the kept ones are squashed (not
    cropped) to ``size`` x ``size`` with OpenCV's bilinear ``resize``.

    Args:
        path: Video file.
        num_frames: Seconds (frames) to keep.
        size: Side of the squashed output frames.
        start: Seconds to skip first (for videos not trimmed to the clip);
            frame indices count from the first frame at or after it.

    Returns:
        list: ``num_frames`` RGB arrays ``(size, size, 3)`` uint8.

    Raises:
        MediaError: The file is missing or unreadable, has no video stream
            or no frame after ``start``.
    """
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(path, 'no video stream')
        stream = container.streams.video[0]
        fps = frame_rate(stream)
        wanted = [reference_frame_index(s, fps) for s in range(num_frames)]
        kept: Dict[int, np.ndarray] = {}
        index, last, first_time = -1, None, None
        for frame in container.decode(stream):
            if start > 0 and frame.time is not None:
                first_time = frame.time if first_time is None else first_time
                if frame.time - first_time < start - 1e-6:
                    continue
            index += 1
            if index in wanted:
                kept[index] = _squash(frame, size)
                last = kept[index]
            elif index > max(wanted):
                break
            else:
                last = frame
    if index < 0:
        raise MediaError(path, f'no video frame after {start} s')
    if not isinstance(last, np.ndarray):
        last = _squash(last, size)
    # Past the end, the reference takes the last decoded frame.
    return [kept.get(i, last) for i in wanted]
