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
