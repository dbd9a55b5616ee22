"""CPM / AVSegFormer* configs: the recipe of cpm.md §8, the ablation
switches of §10, and one training iteration plus one test iteration of every
config on the miniature trees, with a tiny model (in process: a subprocess
per config would cost minutes)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS, MODELS

from conftest import MINI_FRAMES
from mmavs.datasets import avs_collate

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CPM = osp.join(ROOT, 'configs', 'cpm')
MAIN = sorted(glob.glob(osp.join(CPM, '*.py')))
ABLATIONS = sorted(glob.glob(osp.join(CPM, 'ablations', '*.py')))
SYNTHETIC = [c for c in MAIN if 'synthetic' in c]
BENCHMARK = [c for c in MAIN if 'synthetic' not in c]
TINY_HEAD = {
    'in_channels': [8, 16, 32, 64],
    'embed_dims': 16,
    'num_queries': 4,
    'num_heads': 2,
    'pixel_decoder': dict(num_layers=1, num_points=2, ffn_dims=16,
                          num_groups=4),
    'audio_encoder': dict(type='CPMAudioEncoder', num_groups=4,
                          resnet_cfg=dict(base_channels=4, init_cfg=None)),
    'num_tda_layers': 1,
    'tda_ffn_dims': 16,
    'num_tdv_layers': 3,
    'tdv_ffn_dims': 16,
    'matcher': dict(num_points=64),
    'set_loss': dict(num_points=64),
}


def load(config):
    return Config.fromfile(config)


def test_config_lists():
    names = [osp.basename(c) for c in BENCHMARK]
    for model in ('avsegformer-star', 'cpm'):
        for data in ('60e_s4-224x224', '60e_ms3-224x224',
                     '100e_avss-224x224', '100e_avss-512x512',
                     '80e_vpo-ss-512x512', '80e_vpo-ms-512x512',
                     '80e_vpo-msmi-512x512'):
            assert f'{model}_r50_1xb16-{data}.py' in names
    assert len(BENCHMARK) == 14 and len(SYNTHETIC) == 2
    assert [osp.basename(c) for c in ABLATIONS] == [
        'table4_baseline.py', 'table4_ccdm-acp.py', 'table4_ccdm-vcp-acp.py',
        'table4_ccdm-vcp.py', 'table4_ccdm.py', 'table4_cpm.py',
        'table5_dist-rep-m1.py', 'table5_dist-rep-m3.py',
        'table5_dist-rep-m5.py', 'table5_dist-rep-m7.py',
        'table5_point-rep.py'
    ]


@pytest.mark.parametrize('config', BENCHMARK, ids=osp.basename)
def test_recipe(config):
    cfg = load(config)
    name = osp.basename(config)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-4,
                                               weight_decay=0.05)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
        'backbone.visual': dict(lr_mult=0.1)}
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False,
                                                          1500)
    assert (poly.type, poly.power, poly.convert_to_iter_based) == (
        'PolyLR', 0.9, True)
    epochs = 60 if 'ms3' in name or 's4' in name else \
        100 if 'avss' in name else 80
    assert cfg.train_cfg.max_epochs == poly.end == epochs
    assert cfg.train_dataloader.batch_size == 16
    backbone = cfg.model.backbone
    assert backbone.visual.type == 'ResNet' and backbone.visual.depth == 50
    assert backbone.visual.style == 'pytorch'  # plain, not V1c
    assert backbone.audio is None
    frontend = backbone.audio_frontend
    assert (frontend.power, frontend.log) == (1.0, None)
    head = cfg.model.decode_head
    assert head.type == 'CPMHead' and head.num_queries == 100
    cpm = name.startswith('cpm')
    assert head.get('classifier') == ('gmm' if cpm else 'linear')
    assert bool(head.get('use_acp')) == bool(head.get('use_vcp')) == \
        bool(head.get('use_pcl')) == cpm
    assert cfg.custom_hooks == [dict(type='MatchingStabilityHook',
                                     interval=50)]
    # The paper's rule on semantic data, §8's probability on binary data.
    assert head.get('inference', 'semantic') == (
        'semantic' if 's4' in name or 'ms3' in name else 'paper')
    if 'vpo' in name:
        assert head.audio_channels == 2 and frontend.num_frames == 300
        assert head.num_classes == 22
        return
    assert head.get('audio_channels', 1) == 1 and frontend.num_frames == 96
    assert cfg.train_dataloader.dataset.sample_frames == 'one_annotated'
    if 'avss' in name:
        assert head.num_classes == head.out_channels == 71
        assert [m.type for m in cfg.val_evaluator] == [
            'AVSSMetric', 'ClassCoverageMetric']
    else:
        assert head.num_classes == 2 and head.get('out_channels') is None


def test_synthetic_pair():
    """The synthetic AVSegFormer* and CPM differ only in the CPM switches."""
    base, cpm = (Config.fromfile(c) for c in SYNTHETIC)
    assert osp.basename(cpm.filename).startswith('cpm')
    head = cpm.model.decode_head
    assert (head.classifier, head.use_acp, head.use_vcp, head.use_pcl) == (
        'gmm', True, True, True)
    assert base.model.decode_head.classifier == 'linear'
    assert base.train_dataloader == cpm.train_dataloader
    assert base.train_cfg == cpm.train_cfg
    assert base.train_dataloader.dataset.sample_frames == 'one_annotated'
    # Trained from scratch: no weight file is needed.
    init_default_scope('mmseg')
    for cfg in (base, cpm):
        model = MODELS.build(cfg.model)
        model.init_weights()
        assert sum(p.numel() for p in model.parameters()) < 2_000_000


def test_ablation_switches():
    expected = {
        'table4_baseline.py': ('linear', 3, False, False, False),
        'table4_ccdm.py': ('gmm', 3, False, False, False),
        'table4_ccdm-vcp.py': ('gmm', 3, True, False, False),
        'table4_ccdm-acp.py': ('gmm', 3, False, True, False),
        'table4_ccdm-vcp-acp.py': ('gmm', 3, True, True, False),
        'table4_cpm.py': ('gmm', 3, True, True, True),
        'table5_point-rep.py': ('prototype', 3, True, True, True),
        'table5_dist-rep-m1.py': ('gmm', 1, True, True, True),
        'table5_dist-rep-m3.py': ('gmm', 3, True, True, True),
        'table5_dist-rep-m5.py': ('gmm', 5, True, True, True),
        'table5_dist-rep-m7.py': ('gmm', 7, True, True, True),
    }
    for config in ABLATIONS:
        cfg = Config.fromfile(config)
        head = cfg.model.decode_head
        got = (head.get('classifier', 'linear'),
               head.get('num_components', 3), bool(head.get('use_vcp')),
               bool(head.get('use_acp')), bool(head.get('use_pcl')))
        assert got == expected[osp.basename(config)], config
        # Table 4 / 5 are AVSS at original resolution.
        assert cfg.train_dataloader.dataset.pipeline[2].crop_size == (512,
                                                                      512)


def tiny(cfg):
    """Shrink the model; drop pretrained files."""
    cfg.model.backbone.visual.update(depth=18, base_channels=8, init_cfg=None)
    cfg.model.decode_head.update(TINY_HEAD)  # merges nested dicts
    return cfg


def point_data(cfg, avsbench_root, avss_root, vpo_root):
    """Point the config's datasets at the miniature trees."""
    name = osp.basename(cfg.filename)
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        if dataset.type == 'SyntheticAVSSDataset':
            # The miniature tree instead of the generated one.
            dataset.type = 'AVSSDataset'
            dataset.pop('synthetic')
        if 'avss' in name or 'table' in name:
            dataset.update(data_root=avss_root, split=(
                'train' if loader.startswith('train') else 'test'))
            for t in dataset.pipeline:
                if t.type == 'AVSSResize224':
                    t.size = 32
                if t.type == 'AVSSRandomScaleCrop':
                    t.crop_size = (32, 32)
        elif 'vpo' in name:
            dataset.update(data_root=vpo_root)
            for t in dataset.pipeline:
                if 'crop_size' in t:
                    t.crop_size = (32, 32)
        else:
            dataset.update(data_root=avsbench_root, num_frames=MINI_FRAMES)
    return cfg


def run_one_iteration(cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    train = DATASETS.build(cfg.train_dataloader.dataset)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    losses = model.train_step(avs_collate([train[0], train[1]]), optim)
    assert 'loss_cls' in losses and 'loss_dice' in losses
    assert all(torch.isfinite(v) for v in losses.values())
    test = DATASETS.build(cfg.test_dataloader.dataset)
    batch = avs_collate([test[0]])
    model.eval()
    with torch.no_grad():
        out = model.val_step(batch)
    evaluators = cfg.val_evaluator
    for metric_cfg in evaluators if isinstance(evaluators, list) else [
            evaluators]:
        metric = METRICS.build(metric_cfg)
        metric.dataset_meta = test.metainfo
        metric.process(batch, [o.to_dict() for o in out])
        assert metric.results
    return model, losses, out


@pytest.mark.parametrize('config', BENCHMARK + ABLATIONS + SYNTHETIC,
                         ids=osp.basename)
def test_one_training_and_test_iteration(config, avsbench_root, avss_root,
                                         vpo_config_root):
    cfg = point_data(tiny(load(config)), avsbench_root, avss_root,
                     vpo_config_root)
    model, losses, out = run_one_iteration(cfg)
    head = cfg.model.decode_head
    if head.get('use_acp'):
        assert 'loss_acp' in losses
    binary = model.out_channels == 1
    frame = out[0]
    assert frame.seg_logits.data.shape[0] == (1 if binary else
                                             head.num_classes)
    assert frame.seg_logits.data.shape[1:] == frame.gt_sem_seg.data.shape[1:]
    assert frame.tda_classes.dtype == torch.long


def test_audio_resnet18_imagenet_init_keeps_conv1(tmp_path):
    """The configs' audio ResNet-18 init: every torchvision tensor but
    conv1 (Ca channels) and fc loads (a fake file of that layout here)."""
    from mmseg.models.backbones import ResNet
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'models',
                                   'cpm_r50.py'))
    init = cfg.model.decode_head.audio_encoder.resnet_cfg.init_cfg
    assert init.checkpoint == 'pretrained/resnet18-5c106cde.pth'
    source = ResNet(depth=18, base_channels=4).state_dict()
    source['fc.weight'] = torch.zeros(10, 32)
    source['fc.bias'] = torch.zeros(10)
    torch.save(source, str(tmp_path / 'r18.pth'))
    encoder = MODELS.build(dict(
        type='CPMAudioEncoder', in_channels=2, embed_dims=16, num_groups=4,
        resnet_cfg=dict(base_channels=4,
                        init_cfg=dict(init, checkpoint=str(tmp_path /
                                                           'r18.pth')))))
    encoder.init_weights()
    state = encoder.resnet.state_dict()
    assert torch.equal(state['layer4.1.conv2.weight'],
                       source['layer4.1.conv2.weight'])
    assert state['conv1.weight'].shape[1] == 2
