"""The one error type of :mod:`mmavs.media`, and the optional PyAV import."""
from typing import Optional


class MediaError(ValueError):
    """A media file (video, audio, WAV) cannot be used as asked.

    Every decoder, reader and DSP step of :mod:`mmavs.media` raises this one
    type, so callers (datasets, the preparation tool, the inferencer, the
    demo) catch a single class. The message always names the file.

    Args:
        path: The file concerned; None for in-memory data (a waveform given
            to the inferencer), which the message then does not name.
        problem: What is wrong, e.g. ``'has no audio track'``.

    Attributes:
        path, problem: As given, for callers that report them separately.
    """

    def __init__(self, path: Optional[str], problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(problem if path is None else f'{path}: {problem}')

    def __reduce__(self):
        # Picklable across worker processes (dataloader, --jobs).
        return type(self), (self.path, self.problem)


def import_av():
    """Import PyAV, or explain how to install it."""
    try:
        import av
    except ImportError as err:  # pragma: no cover - depends on the env
        raise ImportError('decoding and encoding videos needs PyAV: '
                          'pip install av (it bundles FFmpeg)') from err
    return av
