"""Short test videos with known content, written with PyAV.

Frame ``i`` shows a red square on grey whose position encodes ``i``
(:func:`square_centre`), so a test can tell which frame was extracted; the
soundtrack is a pure tone.
"""
import numpy as np

WIDTH, HEIGHT = 320, 240  # not square: extraction must squash
SQUARE = 16
COLUMNS = 15


def square_centre(index: int):
    """(x, y) pixel centre of the square in frame ``index`` (full size)."""
    x0 = 10 + (index % COLUMNS) * 20
    y0 = 10 + (index // COLUMNS) * 18
    return x0 + SQUARE / 2, y0 + SQUARE / 2


def draw_frame(index: int) -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), 60, dtype=np.uint8)
    x, y = (int(c - SQUARE / 2) for c in square_centre(index))
    image[y:y + SQUARE, x:x + SQUARE] = (230, 40, 40)
    return image


def red_centroid(rgb: np.ndarray):
    """(x, y) centroid of the red pixels of an RGB frame."""
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)
    ys, xs = np.nonzero(red)
    return xs.mean() + 0.5, ys.mean() + 0.5


def make_video(path: str, seconds: float = 6.0, fps: int = 30,
               tone_hz: float = 1000.0, sample_rate: int = 44100) -> None:
    """Write an H.264 / AAC mp4 (MPEG-4 video if x264 is missing)."""
    import av

    with av.open(path, 'w') as container:
        try:
            video = container.add_stream('libx264', rate=fps)
            video.options = {'crf': '12', 'preset': 'veryfast'}
        except Exception:  # an FFmpeg build without x264
            video = container.add_stream('mpeg4', rate=fps)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, 'yuv420p'
        audio = container.add_stream('aac', rate=sample_rate, layout='mono')
        for i in range(int(round(seconds * fps))):
            frame = av.VideoFrame.from_ndarray(draw_frame(i), format='rgb24')
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        tone = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        step = 1024
        for start in range(0, len(tone), step):
            chunk = tone[None, start:start + step]
            frame = av.AudioFrame.from_ndarray(chunk, format='flt',
                                               layout='mono')
            frame.sample_rate = sample_rate
            frame.pts = start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
