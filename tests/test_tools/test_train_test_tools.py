"""tools/train.py and tools/test.py, run as users run them.

The segmentor is not needed: a one-layer toy model, written to a module in
tmp_path and imported through ``custom_imports``, trains on the miniature
AVSBench tree with mmavs' real dataset, pipeline, collate function and
``AVSMetric``, so the data samples carry per-frame ``img_path`` and
``ori_shape`` exactly as the real model's will.
"""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap

import mmengine
import pytest
import torch
from mmengine.config import Config

from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TOY_MODULE = '''
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS


@MODELS.register_module()
class ToyAVSModel(BaseModel):
    """1x1 convolution over the frames; the audio is ignored."""

    def __init__(self, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor, init_cfg)
        self.conv = torch.nn.Conv2d(3, 1, 1)

    def forward(self, inputs, audio=None, data_samples=None, mode='tensor'):
        frames = torch.cat([clip.float() / 255 for clip in inputs])
        logits = self.conv(frames)
        if mode == 'loss':
            keep = [i for i, s in enumerate(data_samples) if s.annotated]
            gt = torch.stack(
                [data_samples[i].gt_sem_seg.data for i in keep]).float()
            return dict(loss=F.binary_cross_entropy_with_logits(
                logits[keep], gt))
        if mode == 'predict':
            for sample, prob in zip(data_samples, logits.sigmoid()):
                sample.seg_logits = PixelData(data=prob)
                sample.pred_sem_seg = PixelData(data=(prob > 0.5).long())
            return data_samples
        return logits
'''

CONFIG = '''
custom_imports = dict(imports=['mmavs', 'toy_avs_model'],
                      allow_failed_imports=False)
default_scope = 'mmseg'
data_root = {data_root!r}
pipeline = [dict(type='LoadAVSFrames'), dict(type='LoadAVSMasks'),
            dict(type='LoadAVSAudio'), dict(type='PackAVSInputs')]


def loader(split, shuffle):
    return dict(
        batch_size=2, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        collate_fn=dict(type='avs_collate'),
        dataset=dict(type='AVSBenchS4Dataset', data_root=data_root,
                     split=split, num_frames=2, pipeline=pipeline))


train_dataloader = loader('train', True)
val_dataloader = loader('val', False)
test_dataloader = loader('test', False)
del loader
val_evaluator = dict(type='AVSMetric')
test_evaluator = val_evaluator
model = dict(type='ToyAVSModel')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=1),
    visualization=dict(type='SegVisualizationHook', draw=False, interval=50))
visualizer = dict(type='SegLocalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')])
randomness = dict(seed=0)
'''


@pytest.fixture(scope='module')
def toy_setup(tmp_path_factory, avsbench_root):
    """A config file and the PYTHONPATH that finds its toy model module."""
    root = tmp_path_factory.mktemp('toy_tools')
    (root / 'toy_avs_model.py').write_text(TOY_MODULE)
    config = root / 'toy_avs_config.py'
    config.write_text(textwrap.dedent(CONFIG.format(data_root=avsbench_root)))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(root), ROOT] + ([env['PYTHONPATH']] if env.get('PYTHONPATH')
                             else []))
    return dict(root=root, config=str(config), env=env)


def run_tool(setup, *args, check=True):
    """Run a tool script in a subprocess from the repository root."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT,
                            env=setup['env'], capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, output
    return result.returncode, output


@pytest.fixture(scope='module')
def trained(toy_setup):
    """Train one epoch, then resume from the work dir for a second one."""
    work_dir = toy_setup['root'] / 'work'
    run_tool(toy_setup, 'tools/train.py', toy_setup['config'], '--work-dir',
             str(work_dir))
    first = sorted(p.name for p in work_dir.glob('*.pth'))
    _, resumed_log = run_tool(
        toy_setup, 'tools/train.py', toy_setup['config'], '--work-dir',
        str(work_dir), '--resume', '--cfg-options', 'train_cfg.max_epochs=2')
    return dict(work_dir=work_dir, first=first, resumed_log=resumed_log)


def test_train_writes_checkpoint_and_resumes(trained):
    assert trained['first'] == ['epoch_1.pth']
    assert (trained['work_dir'] / 'epoch_2.pth').is_file()
    log = trained['resumed_log']
    assert 'Auto resumed from the latest checkpoint' in log
    assert 'resumed epoch: 1' in log
    # mmavs' restricted (weights_only) loader read the Runner's checkpoint.
    ckpt = mmengine.runner.CheckpointLoader.load_checkpoint(
        str(trained['work_dir'] / 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2


def test_test_tool_summary_dump_and_show_dir(toy_setup, trained,
                                             avsbench_root):
    out = toy_setup['root'] / 'preds.pkl'
    show_dir = toy_setup['root'] / 'show'
    _, output = run_tool(
        toy_setup, 'tools/test.py', toy_setup['config'],
        str(trained['work_dir'] / 'epoch_2.pth'), '--work-dir',
        str(toy_setup['root'] / 'test_work'), '--out', str(out),
        '--show-dir', str(show_dir))
    summary = output[output.index('Test results (protocol A'):].splitlines()
    assert summary[1] == '-- protocol A (the numbers papers compare)'
    assert [line.split()[0] for line in summary[2:4]] == ['mIoU', 'Fscore']
    assert summary[4] == '-- batch-independent variants'
    assert [line.split()[0] for line in summary[5:9]] == [
        'mIoU_protoB', 'fgIoU_protoB', 'Fscore_protoB', 'Fscore_framemean']
    values = [line.split()[1] for line in summary[2:4] + summary[5:9]]
    assert all(0 <= float(v) <= 1 for v in values)

    frames = mmengine.load(str(out))
    assert len(frames) == 4  # 2 test clips x 2 frames
    for frame in frames:
        assert frame['ori_shape'] == (64, 64)
        assert frame['pred_sem_seg']['data'].shape == (1, 64, 64)
    names = sorted(f'test_{osp.basename(f["img_path"])}_0.png' for f in frames)
    vis_dir = show_dir / 'vis_data' / 'vis_image'
    assert sorted(p.name for p in vis_dir.iterdir()) == names


@pytest.mark.skipif(torch.cuda.is_available(), reason='float16 works on a GPU')
def test_float16_amp_without_gpu_exits_clearly(toy_setup, tmp_path):
    code, output = run_tool(toy_setup, 'tools/train.py', toy_setup['config'],
                            '--work-dir', str(tmp_path), '--amp',
                            '--amp-dtype', 'float16', check=False)
    assert code != 0
    assert '--amp-dtype float16 (AmpOptimWrapper) needs a CUDA GPU' \
        in output
    assert 'Traceback' not in output


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only default')
def test_amp_on_cpu_trains_and_tests_in_bfloat16(toy_setup, tmp_path):
    run_tool(toy_setup, 'tools/train.py', toy_setup['config'], '--work-dir',
             str(tmp_path), '--amp')
    log = open(glob.glob(str(tmp_path / '*' / '*.log'))[0]).read()
    assert 'BF16OptimWrapper' in log
    checkpoint = str(tmp_path / 'epoch_1.pth')
    run_tool(toy_setup, 'tools/test.py', toy_setup['config'], checkpoint,
             '--work-dir', str(tmp_path / 'test'), '--amp')


def test_missing_checkpoint_exits_clearly(toy_setup, tmp_path):
    missing = str(tmp_path / 'nope.pth')
    code, output = run_tool(toy_setup, 'tools/test.py', toy_setup['config'],
                            missing, check=False)
    assert code != 0
    assert f'checkpoint file not found: {missing}' in output
    assert 'Traceback' not in output


def test_resume_and_amp_config_handling(monkeypatch):
    train = load_tool('tools/train.py')
    cfg = Config(dict(load_from='pretrained.pth',
                      optim_wrapper=dict(type='OptimWrapper')))
    train.apply_resume(cfg, train.AUTO_RESUME, {})
    assert cfg.resume is True and cfg.load_from is None
    cfg.load_from = 'given.pth'
    train.apply_resume(cfg, train.AUTO_RESUME, {'load_from': 'given.pth'})
    assert cfg.load_from == 'given.pth'
    train.apply_resume(cfg, 'ckpt.pth', {})
    assert cfg.load_from == 'ckpt.pth'
    monkeypatch.setattr(train, 'amp_device_available', lambda: False)
    with pytest.raises(SystemExit, match='needs a CUDA GPU'):
        train.apply_amp(cfg, 'float16')
    train.apply_amp(cfg)  # default on a CPU-only machine
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    monkeypatch.setattr(train, 'amp_device_available', lambda: True)
    train.apply_amp(cfg)  # default with a GPU
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    train.apply_amp(cfg, 'bfloat16')
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    args = train.parse_args(['c.py', '--resume'])
    assert args.resume == train.AUTO_RESUME
    assert train.parse_args(['c.py', '--resume', 'x.pth']).resume == 'x.pth'


def test_work_dir_priority_and_local_rank(monkeypatch):
    from mmavs.utils.tool_utils import export_local_rank, resolve_work_dir
    cfg = Config(dict(work_dir='from_cfg'))
    assert resolve_work_dir(cfg, 'cli', 'a/b/cfg.py') == 'cli'
    assert resolve_work_dir(cfg, None, 'a/b/cfg.py') == 'from_cfg'
    assert resolve_work_dir(Config(), None, 'a/b/cfg.py') == osp.join(
        './work_dirs', 'cfg')
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    export_local_rank(None)
    assert 'LOCAL_RANK' not in os.environ
    export_local_rank(3)
    assert os.environ['LOCAL_RANK'] == '3'


def test_test_tool_config_edits():
    test = load_tool('tools/test.py')
    cfg = Config(dict(test_evaluator=dict(type='AVSMetric')))
    test.add_dump_metric(cfg, 'o.pkl')
    assert [m['type'] for m in cfg.test_evaluator] == [
        'AVSMetric', 'mmseg.DumpFrameResults']
    assert cfg.test_evaluator[1]['out_file_path'] == 'o.pkl'
    cfg = Config()
    test.enable_visualization(cfg, False, 'shown', 2)
    assert cfg.default_hooks.visualization.draw is True
    assert cfg.default_hooks.visualization.interval == 1
    assert cfg.visualizer.save_dir == 'shown'
    assert cfg.visualizer.vis_backends == [dict(type='LocalVisBackend')]
    with pytest.raises(SystemExit, match='--out must name a .pkl'):
        test.check_args(test.parse_args(['c.py', __file__, '--out', 'o.json']))
    table = test.format_summary({'extra': 'x', 'Fscore': 0.5, 'mIoU': 0.25})
    assert table.splitlines()[2:] == ['mIoU    0.2500', 'Fscore  0.5000',
                                      '-- other metrics', 'extra   x']


def test_dump_frame_results_keeps_every_frame(tmp_path):
    from mmavs.evaluation import DumpFrameResults
    metric = DumpFrameResults(out_file_path=str(tmp_path / 'd.pkl'))
    frames = [dict(clip_index=c, frame_index=t)
              for c in (0, 1) for t in (0, 1)]
    metric.process({}, frames[:2])
    metric.process({}, frames[2:] + [dict(name='no clip')])
    # Two clips plus one clip-less sample; size counts dataset items.
    assert metric.evaluate(size=3) == {}
    assert mmengine.load(str(tmp_path / 'd.pkl')) == frames + [
        dict(name='no clip')]


def mismatched_checkpoint(trained, tmp_path):
    """The toy model's checkpoint with a foreign key and a wider conv."""
    ckpt = torch.load(str(trained['work_dir'] / 'epoch_2.pth'),
                      weights_only=False)
    ckpt['state_dict']['conv.weight'] = torch.zeros(1, 4, 1, 1)
    ckpt['state_dict']['head.extra'] = torch.zeros(2)
    path = str(tmp_path / 'other.pth')
    torch.save(ckpt, path)
    return path


def test_checkpoint_names_its_config(trained):
    ckpt = mmengine.runner.CheckpointLoader.load_checkpoint(
        str(trained['work_dir'] / 'epoch_2.pth'))
    assert ckpt['meta']['config_file'].endswith('toy_avs_config.py')


def test_test_tool_and_load_from_are_strict(toy_setup, trained, tmp_path):
    other = mismatched_checkpoint(trained, tmp_path)
    code, output = run_tool(toy_setup, 'tools/test.py', toy_setup['config'],
                            other, '--work-dir', str(tmp_path / 'w'),
                            check=False)
    assert code != 0
    assert (f'checkpoint {other} does not match the model: 1 unexpected '
            'keys (in the checkpoint, not in the model): head.extra; 1 keys '
            'of another shape: conv.weight [1, 4, 1, 1] vs model '
            '[1, 3, 1, 1]. The checkpoint was made for ') in output
    assert 'toy_avs_config.py' in output and '--non-strict' in output
    code, output = run_tool(toy_setup, 'tools/test.py', toy_setup['config'],
                            other, '--work-dir', str(tmp_path / 'w'),
                            '--non-strict', check=False)
    assert code == 0 and 'non-strict load' in output
    code, output = run_tool(toy_setup, 'tools/train.py', toy_setup['config'],
                            '--work-dir', str(tmp_path / 't'),
                            '--cfg-options', f'load_from={other}',
                            check=False)
    assert code != 0 and 'does not match the model' in output


def test_resume_with_nothing_to_resume(toy_setup, trained, tmp_path,
                                       monkeypatch):
    monkeypatch.syspath_prepend(str(toy_setup['root']))
    train = load_tool('tools/train.py')
    config = toy_setup['config']
    empty = str(tmp_path / 'empty')
    with pytest.raises(SystemExit, match='no checkpoint to resume in .*'
                       'empty .no last_checkpoint'):
        train.main([config, '--work-dir', empty, '--resume'])
    os.makedirs(tmp_path / 'stale')
    (tmp_path / 'stale' / 'last_checkpoint').write_text('/gone/epoch_3.pth')
    with pytest.raises(SystemExit, match='names /gone/epoch_3.pth, which '
                       'does not exist'):
        train.main([config, '--work-dir', str(tmp_path / 'stale'),
                    '--resume'])
    missing = str(tmp_path / 'typo.pth')
    with pytest.raises(SystemExit, match=f'checkpoint not found: {missing}'):
        train.main([config, '--work-dir', empty, '--resume', missing])
    cfg = Config(dict(resume=True, load_from=None, work_dir=empty))
    train.check_resume(cfg, allow_scratch=True)
    assert cfg.resume is False
    cfg = Config(dict(resume=True, load_from=None,
                      work_dir=str(trained['work_dir'])))
    train.check_resume(cfg, allow_scratch=False)
    assert cfg.resume is True


def test_output_folders_checked_before_the_run(toy_setup, trained,
                                               tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(toy_setup['root']))
    test = load_tool('tools/test.py')
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    checkpoint = str(trained['work_dir'] / 'epoch_2.pth')
    with pytest.raises(SystemExit, match=f'--out {blocker} is not '
                       'writable'):
        test.check_args(test.parse_args(
            [toy_setup['config'], checkpoint, '--out',
             str(blocker / 'preds.pkl')]))
    with pytest.raises(SystemExit, match='--show-dir .* is not writable'):
        test.check_args(test.parse_args(
            [toy_setup['config'], checkpoint, '--show-dir',
             str(blocker / 'show')]))
    with pytest.raises(SystemExit, match='--work-dir .* is not writable'):
        test.main([toy_setup['config'], checkpoint, '--work-dir',
                   str(blocker / 'w')])
    if os.geteuid() != 0:  # root writes into read-only folders
        read_only = tmp_path / 'ro'
        read_only.mkdir(mode=0o555)
        with pytest.raises(SystemExit, match='--out .* is not writable'):
            test.check_args(test.parse_args(
                [toy_setup['config'], checkpoint, '--out',
                 str(read_only / 'preds.pkl')]))
