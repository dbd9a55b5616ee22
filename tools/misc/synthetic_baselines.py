"""Generate the synthetic AVS data and score reference predictions on it.

The scores are computed with the real pipeline (dataset, transforms, collate)
and the registered ``AVSMetric`` through mmengine's ``Evaluator``:

* ``all objects``: segment every visible object (what vision alone can do);
* ``nothing``: an empty mask everywhere;
* ``oracle``: the ground truth itself (must score 1.0).

Example::

    python tools/misc/synthetic_baselines.py --data-root data/synthetic_avsbench
    python tools/misc/synthetic_baselines.py --avss --data-root data/synthetic_avss
    python tools/misc/synthetic_baselines.py --vpo --data-root data/synthetic_vpo

A subset the data was generated without (e.g. no S4 tree) is skipped. With
``--avss`` the synthetic AVSS tree is scored with ``AVSSMetric``; there
``all objects`` predicts every visible object with its (visible) class.
With ``--vpo`` each subset of the synthetic VPO tree (SS, MS, MSMI, test
split) is scored with ``VPOMetric`` (dataset-level mIoU / F / FDR, 22
classes); ``all objects`` paints every object of the source COCO set with
its VPO class.
"""
import argparse
import os.path as osp

import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from torch.utils.data import DataLoader

import mmavs  # noqa: F401  (registers the components)
from mmavs.data_tools.synthetic_avsbench import (META_FILE,
                                                 load_synthetic_meta,
                                                 make_synthetic_avsbench,
                                                 render_clip)
from mmavs.data_tools.synthetic_avss import META_FILE as AVSS_META_FILE
from mmavs.data_tools.synthetic_avss import (load_synthetic_avss_meta,
                                             make_synthetic_avss,
                                             render_avss_clip)
from mmavs.data_tools.synthetic_vpo import META_FILE as VPO_META_FILE
from mmavs.data_tools.synthetic_vpo import (SYNTHETIC_VPO_CLASS,
                                            load_synthetic_vpo_meta,
                                            make_synthetic_vpo)
from mmavs.data_tools.vpo_builder import annotation_mask
from mmavs.datasets import avs_collate
from mmavs.datasets.vpo import CLASS_INDEX
from mmseg.registry import DATASETS

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs')
]
SUBSETS = dict(s4='AVSBenchS4Dataset', ms3='AVSBenchMS3Dataset')
AVSS_PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs')
]
AVSS_KEYS = ('mIoU', 'Fscore', 'mIoU_noBg', 'mIoU_protoB', 'Fscore_protoB',
             'FDR_protoB')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='data/synthetic_avsbench')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--split', default='test')
    parser.add_argument('--batch-size', type=int, default=3)
    parser.add_argument('--avss', action='store_true',
                        help='score a synthetic AVSS tree (AVSSMetric)')
    parser.add_argument('--vpo', action='store_true',
                        help='score a synthetic VPO tree (VPOMetric)')
    return parser.parse_args(argv)


def baseline_masks(clip: dict, size: int) -> dict:
    rendered = render_clip(clip, size)
    visible = [torch.from_numpy(v).float() for v in rendered['visible']]
    return {
        'all objects': visible,
        'nothing': [torch.zeros_like(v) for v in visible],
        'oracle': [torch.from_numpy(m > 0).float() for m in rendered['masks']],
    }


BASELINES = ('all objects', 'nothing', 'oracle')


def score_baselines(dataset, metric: str, maps_of, prediction,
                    batch_size: int) -> dict:
    """Score each baseline on ``dataset`` with the registered ``metric``.

    Args:
        maps_of: ``sample → {baseline: per-frame maps of its clip}``.
        prediction: ``(sample, map) → None``: set the sample's prediction
            fields from its frame's map.
    """
    evaluators = {n: Evaluator(dict(type=metric)) for n in BASELINES}
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=avs_collate)
    for batch in loader:
        outputs = {n: [] for n in BASELINES}
        for sample in batch['data_samples']:
            maps = maps_of(sample)
            for n in BASELINES:
                pred = sample.clone()
                prediction(pred, maps[n][sample.frame_index])
                outputs[n].append(pred)
        for n in BASELINES:
            evaluators[n].process(outputs[n], batch)
    return {n: e.evaluate(len(dataset)) for n, e in evaluators.items()}


def evaluate(dataset, clips: list, size: int, batch_size: int) -> dict:
    """Score each baseline on ``dataset`` with the registered AVSMetric."""
    by_name = {clip['name']: clip for clip in clips}

    def binary(pred, mask):
        prob = mask[None]
        pred.seg_logits = PixelData(data=prob)
        pred.pred_sem_seg = PixelData(data=(prob > 0.5).long())

    return score_baselines(
        dataset, 'AVSMetric',
        lambda sample: baseline_masks(by_name[sample.clip_name], size),
        binary, batch_size)


def avss_baseline_maps(clip: dict, size: int) -> dict:
    """Class maps of each AVSS baseline, 10 frames (padding: background)."""
    rendered = render_avss_clip(clip, size)
    pad = [torch.zeros(size, size, dtype=torch.long)] * (
        10 - len(rendered['labels']))
    maps = {
        'all objects': rendered['visible'],
        'nothing': [v * 0 for v in rendered['visible']],
        'oracle': rendered['labels'],
    }
    return {n: [torch.from_numpy(m).long() for m in v] + pad
            for n, v in maps.items()}


def evaluate_avss(dataset, clips: list, size: int, batch_size: int) -> dict:
    """Score each baseline on an AVSS ``dataset`` with ``AVSSMetric``."""
    by_name = {clip['uid']: clip for clip in clips}

    def class_map(pred, labels):
        pred.pred_sem_seg = PixelData(data=labels[None])

    return score_baselines(
        dataset, 'AVSSMetric',
        lambda sample: avss_baseline_maps(by_name[sample.clip_name], size),
        class_map, batch_size)


def main_avss(args) -> None:
    if not osp.isfile(osp.join(args.data_root, AVSS_META_FILE)):
        print(f'generating synthetic AVSS data in {args.data_root}')
        make_synthetic_avss(args.data_root, seed=args.seed, size=args.size)
    meta = load_synthetic_avss_meta(args.data_root)
    dataset = DATASETS.build(
        dict(type='AVSSDataset', data_root=args.data_root, split=args.split,
             pipeline=AVSS_PIPELINE, test_mode=True))
    clips = [c for c in meta['videos'] if c['split'] == args.split]
    results = evaluate_avss(dataset, clips, meta['size'], args.batch_size)
    print(f'\nAVSS {args.split} ({len(dataset)} clips)')
    print(f'{"prediction":<12}' + ''.join(f'{k:>15}' for k in AVSS_KEYS))
    for name, metrics in results.items():
        print(f'{name:<12}' + ''.join(f'{metrics[k]:>15.4f}'
                                      for k in AVSS_KEYS))


VPO_PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio'),
    dict(type='PackAVSInputs')
]
VPO_SUBSETS = dict(SS='VPOSSDataset', MS='VPOMSDataset',
                   MSMI='VPOMSMIDataset')
VPO_KEYS = ('mIoU_protoB', 'mIoU_protoB_present', 'Fscore_protoB',
            'FDR_protoB')


def vpo_visible_maps(root: str, meta: dict, split: str) -> dict:
    """Image id → ``(H, W)`` VPO class map of every object of the source
    COCO set (what vision alone could segment)."""
    import json
    coco_set, = [s for s in meta['coco_sets'] if s['split'] == split]
    with open(osp.join(root, coco_set['ann_file'])) as f:
        coco = json.load(f)
    names = {c['id']: SYNTHETIC_VPO_CLASS[c['name']]
             for c in coco['categories']}
    maps = {im['id']: torch.zeros(im['height'], im['width'],
                                  dtype=torch.long) for im in coco['images']}
    for ann in coco['annotations']:
        shape = tuple(maps[ann['image_id']].shape)
        mask = torch.from_numpy(annotation_mask(ann, *shape))
        maps[ann['image_id']][mask] = CLASS_INDEX[names[ann['category_id']]]
    return maps


def evaluate_vpo(dataset, visible: dict, batch_size: int) -> dict:
    """Score each baseline on a VPO ``dataset`` with ``VPOMetric``."""
    names = ('all objects', 'nothing', 'oracle')
    evaluators = {n: Evaluator(dict(type='VPOMetric')) for n in names}
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=avs_collate)
    for batch in loader:
        outputs = {n: [] for n in names}
        for sample in batch['data_samples']:
            gt = sample.gt_sem_seg.data[0]
            maps = {'all objects': visible[sample.img_id],
                    'nothing': torch.zeros_like(gt),
                    'oracle': torch.where(gt == 255, 0, gt)}
            for n in names:
                pred = sample.clone()
                pred.pred_sem_seg = PixelData(data=maps[n][None])
                outputs[n].append(pred)
        for n in names:
            evaluators[n].process(outputs[n], batch)
    return {n: e.evaluate(len(dataset)) for n, e in evaluators.items()}


def main_vpo(args) -> None:
    if not osp.isfile(osp.join(args.data_root, VPO_META_FILE)):
        print(f'generating synthetic VPO data in {args.data_root}')
        make_synthetic_vpo(args.data_root, seed=args.seed, size=args.size)
    meta = load_synthetic_vpo_meta(args.data_root)
    visible = vpo_visible_maps(args.data_root, meta, 'val')
    for subset, dataset_type in VPO_SUBSETS.items():
        dataset = DATASETS.build(
            dict(type=dataset_type, data_root=args.data_root,
                 split=args.split, pipeline=VPO_PIPELINE, test_mode=True))
        results = evaluate_vpo(dataset, visible, args.batch_size)
        print(f'\nVPO-{subset} {args.split} ({len(dataset)} images)')
        print(f'{"prediction":<12}' + ''.join(f'{k:>21}' for k in VPO_KEYS))
        for name, metrics in results.items():
            print(f'{name:<12}' + ''.join(f'{metrics[k]:>21.4f}'
                                          for k in VPO_KEYS))


def main():
    args = parse_args()
    init_default_scope('mmseg')
    if args.avss:
        main_avss(args)
        return
    if args.vpo:
        main_vpo(args)
        return
    if not osp.isfile(osp.join(args.data_root, META_FILE)):
        print(f'generating synthetic AVSBench data in {args.data_root}')
        make_synthetic_avsbench(args.data_root, seed=args.seed, size=args.size)
    meta = load_synthetic_meta(args.data_root)
    for subset, dataset_type in SUBSETS.items():
        if not meta[subset]:
            continue  # generated without this subset
        dataset = DATASETS.build(
            dict(type=dataset_type, data_root=args.data_root,
                 split=args.split, pipeline=PIPELINE, test_mode=True))
        results = evaluate(dataset, meta[subset][args.split], meta['size'],
                           args.batch_size)
        print(f'\n{subset.upper()} {args.split} ({len(dataset)} clips)')
        keys = list(next(iter(results.values())))
        print(f'{"prediction":<12}' + ''.join(f'{k:>18}' for k in keys))
        for name, metrics in results.items():
            print(f'{name:<12}' + ''.join(f'{metrics[k]:>18.4f}' for k in keys))


if __name__ == '__main__':
    main()
