from conftest import load_tool
from mmavs.media import probe_video


def test_cli_writes_the_video_it_describes(tmp_path, capsys):
    tool = load_tool('tools/misc/make_synthetic_video.py')
    out = str(tmp_path / 'v.mkv')
    tool.main([out, '--seconds', '2', '--fps', '10', '--size', '32',
               '--sample-rate', '16000', '--channels', '1'])
    info = probe_video(out)
    assert (info.width, info.sample_rate, info.channels) == (32, 16000, 1)
    printed = capsys.readouterr().out
    assert printed.startswith(f'wrote {out}: 2 s, 20 frames')
    assert '  1: ' in printed
