"""tools/misc/check_dataset.py: exit status, config mode, the summary."""
import os
import os.path as osp

import pytest

from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'misc', 'check_dataset.py')
MINI = ['--num-frames', '2', '--frame-size', '64']


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


def test_root_counts_differ_is_a_warning_not_a_failure(tool, avsbench_root,
                                                       capsys):
    assert tool.main([avsbench_root] + MINI) == 0
    out = capsys.readouterr().out
    assert 'S4     train        3       3452' in out
    assert 'OK: 0 problems, 6 warnings' in out
    assert tool.main([avsbench_root, '--strict'] + MINI) == 1


def test_problem_exits_non_zero(tool, avsbench_copy, capsys):
    frames = osp.join(avsbench_copy, 'Multi-sources', 'ms3_data',
                      'visual_frames')
    clip = sorted(os.listdir(frames))[0]
    os.remove(osp.join(frames, clip, f'{clip}.mp4_1.png'))
    assert tool.main([avsbench_copy, '--subsets', 'ms3'] + MINI) == 1
    out = capsys.readouterr().out
    assert 'missing frame (1):' in out and f'{clip}.mp4_1.png' in out
    assert 'FAILED: 1 problems' in out


def test_config_checks_its_own_datasets(tool, avsbench_root, tmp_path,
                                        capsys):
    config = tmp_path / 'cfg.py'
    config.write_text(
        'custom_imports = dict(imports=["mmavs"])\n'
        'dataset = dict(type="AVSBenchMS3Dataset", data_root='
        f'{avsbench_root!r}, num_frames=2)\n'
        'train_dataloader = dict(dataset=dict(dataset, split="train"))\n'
        'test_dataloader = dict(dataset=dict(dataset, split="test"))\n')
    assert tool.main([str(config), '--frame-size', '64']) == 0
    out = capsys.readouterr().out
    assert 'MS3    train' in out and 'MS3    test' in out
    assert 'MS3    val' not in out and 'S4 ' not in out


def test_usage_errors(tool, tmp_path, capsys):
    assert tool.main([str(tmp_path / 'nothing')]) == 2
    config = tmp_path / 'cfg.py'
    config.write_text('model = dict()\n')
    assert tool.main([str(config)]) == 2
    assert 'no AVSBench dataset' in capsys.readouterr().err


def test_avss_root_is_recognised_and_clean(tool, avss_root, capsys):
    assert tool.main([avss_root]) == 0
    out = capsys.readouterr().out
    assert 'V2     test         1        750      10     10' in out
    assert 'V1S    train        1       3452       5      1' in out
    assert 'OK: 0 problems' in out
    assert tool.main([avss_root, '--subsets', 's4']) == 2


def test_avss_problems_and_warnings(tool, avss_copy, capsys):
    import numpy as np
    from PIL import Image
    v2 = osp.join(avss_copy, 'v2', 'v2_test_0000')
    os.remove(osp.join(v2, 'frames', '4.jpg'))
    v1m = osp.join(avss_copy, 'v1m', 'v1m_test_0000')
    Image.new('RGB', (8, 8)).save(osp.join(v1m, 'labels_rgb', '2.png'))
    v1s = osp.join(avss_copy, 'v1s', 'v1s_test_0000')
    mask = osp.join(v1s, 'labels_rgb', '0.png')
    rgb = np.asarray(Image.open(mask)).copy()
    rgb[0, :5] = (1, 2, 3)
    Image.fromarray(rgb).save(mask)
    os.remove(osp.join(avss_copy, 'v2', 'v2_train_0000', 'audio.wav'))
    assert tool.main([avss_copy, '--max-listed', '3']) == 1
    out = capsys.readouterr().out
    assert 'gap in file numbers (1):' in out and 'frames/4.jpg' in out
    assert 'mask size differs from its frames (1):' in out
    assert 'labels_rgb/2.png: mask is 8x8' in out
    assert 'missing audio (1):' in out
    assert 'colours outside the palette (1):' in out
    assert 'v1s test v1s_test_0000: 5 pixels (read as background)' in out
    assert 'FAILED: 3 problems' in out


def test_avss_bad_metadata(tool, avss_copy, capsys):
    with open(osp.join(avss_copy, 'metadata.csv'), 'w') as f:
        f.write('uid,label\nv2_test_0000,v2\n')
    assert tool.main([avss_copy]) == 1
    assert "no column(s) ['split']" in capsys.readouterr().out


def test_config_checks_its_avss_dataset(tool, avss_root, tmp_path, capsys):
    config = tmp_path / 'cfg.py'
    config.write_text(
        'custom_imports = dict(imports=["mmavs"])\n'
        f'dataset = dict(type="AVSSDataset", data_root={avss_root!r})\n'
        'test_dataloader = dict(dataset=dict(dataset, split="test"))\n')
    assert tool.main([str(config)]) == 0
    out = capsys.readouterr().out
    assert 'V2     test' in out and 'V2     train' not in out
