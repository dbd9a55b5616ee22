"""demo/video_demo.py: a checkpoint of another model stops it, audio
shorter than the video is reported."""
import pytest
import torch

import mmavs.apis.inferencer as inferencer_module
from conftest import load_tool
from mmavs.datasets.synthetic_video import make_synthetic_video


def tiny_options(tiny_tpavi):
    return ['--cfg-options'] + [f'{k}={v}'.replace(' ', '')
                                for k, v in tiny_tpavi['options'].items()]


def test_checkpoint_of_another_model_stops_the_demo(tiny_tpavi, tmp_path):
    video = str(tmp_path / 'v.mp4')
    make_synthetic_video(video, seconds=1)
    state = torch.load(tiny_tpavi['checkpoint'], weights_only=True)
    state['state_dict'] = {k: v for k, v in state['state_dict'].items()
                           if not k.startswith('neck.')}
    other = str(tmp_path / 'other.pth')
    torch.save(state, other)
    demo = load_tool('demo/video_demo.py')
    with pytest.raises(SystemExit, match=r'does not match the model: \d+ '
                       'missing keys .*neck\\.'):
        demo.main([video, tiny_tpavi['config'], other, '--out',
                   str(tmp_path / 'o.mp4')] + tiny_options(tiny_tpavi))


def test_short_audio_is_reported(tiny_tpavi, tmp_path, monkeypatch, capsys):
    video = str(tmp_path / 'v.mp4')
    make_synthetic_video(video, seconds=4, fps=10, size=48)
    read_audio = inferencer_module.read_audio

    def shortened(path):
        wave, rate, offset = read_audio(path)
        return wave[:int(2.5 * rate)], rate, offset

    monkeypatch.setattr(inferencer_module, 'read_audio', shortened)
    demo = load_tool('demo/video_demo.py')
    demo.main([video, tiny_tpavi['config'], tiny_tpavi['checkpoint'],
               '--out', str(tmp_path / 'o.mp4')] + tiny_options(tiny_tpavi))
    out = capsys.readouterr().out
    assert 'warning: the audio lasts 2.50 s' in out
    assert 'frames 2 to 3 (from 2.0 s) hear the last second' in out
    assert (tmp_path / 'o.mp4').exists()
