"""demo/video_demo.py end to end on CPU, and its error messages."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmavs.media import count_video_frames, iter_sampled_frames
from conftest import load_tool
from mmavs.data_tools.synthetic_video import make_synthetic_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_demo():
    return load_tool('demo/video_demo.py')


def tiny_args(tiny_tpavi):
    return [tiny_tpavi['config'], tiny_tpavi['checkpoint'], '--cfg-options'
            ] + [f'{k}={v}'.replace(' ', '')
                 for k, v in tiny_tpavi['options'].items()]


def test_demo_end_to_end(tiny_tpavi, tmp_path):
    # 7.4 s at 30 fps, 48 kHz stereo: 7 one-second frames, clips of 5, the
    # second clip padded.
    video = str(tmp_path / 'in.mp4')
    make_synthetic_video(video, seconds=7.4, fps=30, size=80,
                         sample_rate=48000, seed=2)
    out = str(tmp_path / 'out' / 'overlay.mp4')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    result = subprocess.run(
        [sys.executable, 'demo/video_demo.py', video, '--out', out,
         '--device', 'cpu'] + tiny_args(tiny_tpavi),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert '7/7' in output  # the progress bar reached the end
    assert count_video_frames(out) == 7
    overlay = list(iter_sampled_frames(out, rate=1.0))
    assert overlay[0].image.shape == (80, 80, 3)
    masks = sorted(os.listdir(tmp_path / 'out' / 'overlay_masks'))
    assert masks == [f'frame_{i:05d}.png' for i in range(7)]
    for name in masks:
        mask = np.asarray(Image.open(tmp_path / 'out' / 'overlay_masks' /
                                     name))
        assert mask.shape == (80, 80) and set(np.unique(mask)) <= {0, 255}


@pytest.mark.parametrize('kind, message', [
    ('mute', 'has no audio track'),
    ('short', 'shorter than one second'),
    ('garbage', 'cannot read video'),
    ('missing', 'video file not found'),
])
def test_demo_clear_errors(tiny_tpavi, tmp_path, kind, message):
    video = str(tmp_path / f'{kind}.mp4')
    if kind == 'mute':
        make_synthetic_video(video, seconds=2, sample_rate=None)
    elif kind == 'short':
        make_synthetic_video(video, seconds=0.6)
    elif kind == 'garbage':
        with open(video, 'wb') as f:
            f.write(b'\x00' * 100)
    demo = load_demo()
    with pytest.raises(SystemExit) as err:
        demo.main([video, '--out', str(tmp_path / 'o.mp4')] +
                  tiny_args(tiny_tpavi))
    assert message in str(err.value) and video in str(err.value)
    assert not osp.exists(tmp_path / 'o.mp4')


def test_demo_rejects_bad_options(tiny_tpavi, tmp_path):
    demo = load_demo()
    video = str(tmp_path / 'v.mp4')
    make_synthetic_video(video, seconds=1)
    config, checkpoint = tiny_args(tiny_tpavi)[:2]
    for out, extra, message in (
            ('o.mp4', ['--fps', '0'], '--fps must be positive'),
            ('noext', [], 'file extension')):
        with pytest.raises(SystemExit, match=message):
            demo.main([video, config, checkpoint, '--out',
                       str(tmp_path / out)] + extra)


def test_semantic_frames_use_the_avss_palette_and_legend():
    from types import SimpleNamespace

    from mmavs.datasets.avss import AVSSDataset
    demo = load_demo()
    meta = AVSSDataset.METAINFO
    image = np.full((48, 96, 3), 90, np.uint8)
    classes = np.zeros((48, 96), np.uint8)
    classes[30:40, 60:80] = 17  # dog
    pred = SimpleNamespace(image=image, mask=classes)
    frame = demo.draw_frame(pred, meta, True, alpha=1.0)
    assert frame[35, 70].tolist() == list(meta['palette'][17])
    assert (frame[:14, :20] != 90).any()  # the legend box
    png = demo.mask_image(classes, meta, True)
    assert png.mode == 'P' and np.asarray(png)[35, 70] == 17
    assert png.convert('RGB').getpixel((70, 35)) == tuple(meta['palette'][17])
    binary = demo.mask_image((classes > 0).astype(np.uint8), meta, False)
    assert np.asarray(binary).max() == 255
