"""The synthetic AVSS generator: the released layout, and a task that vision
alone cannot solve."""
import csv
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image
from scipy.io import wavfile

from conftest import load_tool
from mmavs.datasets.avss import ColorToIndex, read_class_names
from mmavs.datasets.synthetic_avss import (SYNTHETIC_CLASS_INDEX,
                                           load_synthetic_avss_meta,
                                           make_synthetic_avss)
from mmseg.registry import DATASETS


def test_released_layout(avss_root):
    with open(osp.join(avss_root, 'metadata.csv')) as f:
        rows = list(csv.DictReader(f))
    assert {'uid', 'label', 'split'} <= set(rows[0])
    assert len(read_class_names(osp.join(avss_root, 'label2idx.json'))) == 71
    with open(osp.join(avss_root, 'label2idx.json')) as f:
        assert list(json.load(f).values()) == list(range(1, 72))
    lookup = ColorToIndex()
    for row in rows:
        clip = osp.join(avss_root, row['label'], row['uid'])
        frames = 10 if row['label'] == 'v2' else 5
        masks = 1 if (row['label'], row['split']) == ('v1s', 'train') \
            else frames
        for t in range(frames):
            with Image.open(osp.join(clip, 'frames', f'{t}.jpg')) as image:
                assert image.format == 'JPEG' and image.mode == 'RGB'
        assert not osp.exists(osp.join(clip, 'frames', f'{frames}.jpg'))
        for t in range(masks):
            with Image.open(osp.join(clip, 'labels_rgb', f'{t}.png')) as image:
                assert image.mode == 'RGB'
                index, unmatched = lookup(np.asarray(image))
            assert unmatched == 0
            assert set(np.unique(index)) <= \
                {0} | set(SYNTHETIC_CLASS_INDEX.values())
        assert not osp.exists(osp.join(clip, 'labels_rgb', f'{masks}.png'))
        rate, wave = wavfile.read(osp.join(clip, 'audio.wav'))
        assert rate == 16000 and len(wave) == frames * 16000


def test_several_sounding_classes_per_clip(tmp_path):
    meta = make_synthetic_avss(str(tmp_path), seed=0, size=16,
                               clips=dict(v2=dict(test=6)))
    counts = [len({o for second in clip['sounding'] for o in second})
              for clip in meta['videos']]
    assert max(counts) >= 2
    assert meta == load_synthetic_avss_meta(str(tmp_path))


def test_all_visible_objects_score_far_below_the_oracle(tmp_path):
    """Every synthetic object is visible with its class's look, sounding or
    not. Predicting each visible object with its class scores IoU 1 on the
    frames where the object sounds and 0 where it is silent, so a class's
    per-class IoU is about P(sounds | visible): E[1/k] = 0.42 for v1s (one of
    k = 2-3 objects sounds), 0.95 * 1.5 * E[1/k] = 0.42 for v1m / v2 (one or
    two of k = 3-4 objects sound, 5 % silent seconds). With 8 classes and a
    background IoU below 1, the official mIoU is at most about
    (1 + 8 * 0.42) / 9 = 0.48 of the oracle's; 0.6 leaves room for the
    sampling noise of a 14-clip split (0.42-0.53 over seeds 0-5)."""
    init_default_scope('mmseg')
    tool = load_tool('tools/misc/synthetic_baselines.py')
    meta = make_synthetic_avss(str(tmp_path), seed=0, size=32, clips=dict(
        v1s=dict(test=4), v1m=dict(test=4), v2=dict(test=6)))
    dataset = DATASETS.build(dict(
        type='AVSSDataset', data_root=str(tmp_path), split='test',
        pipeline=tool.AVSS_PIPELINE, test_mode=True))
    scores = tool.evaluate_avss(dataset, meta['videos'], 32, 4)
    oracle, vision = scores['oracle'], scores['all objects']
    # The oracle is perfect on every class present (9 of 71).
    assert oracle['mIoU'] == pytest.approx(9 / 71)
    assert oracle['mIoU_protoB_present'] == 1.0
    assert oracle['Fscore_protoB'] == 1.0 and oracle['FDR_protoB'] == 0.0
    assert vision['mIoU'] <= 0.6 * oracle['mIoU']
    assert vision['mIoU_protoB_present'] <= 0.6
    assert scores['nothing']['mIoU_noBg'] == 0.0


def test_cli(tmp_path):
    tool = load_tool('tools/dataset_converters/make_synthetic_avss.py')
    tool.main([str(tmp_path), '--size', '16', '--clips', '1', '0', '1',
               '--subsets', 'v1m', 'v2'])
    with open(tmp_path / 'metadata.csv') as f:
        labels = [row['label'] for row in csv.DictReader(f)]
    assert labels == ['v1m', 'v1m', 'v2', 'v2', 'v2', 'v2']


def test_baselines_tool_prints_the_avss_table(tmp_path, capsys):
    init_default_scope('mmseg')
    tool = load_tool('tools/misc/synthetic_baselines.py')
    make_synthetic_avss(str(tmp_path), seed=1, size=16,
                        clips=dict(v1m=dict(test=1), v2=dict(test=1)))
    tool.main_avss(tool.parse_args(['--avss', '--data-root', str(tmp_path)]))
    out = capsys.readouterr().out
    assert 'AVSS test (2 clips)' in out
    oracle = next(line for line in out.splitlines()
                  if line.startswith('oracle'))
    # The oracle's mIoU and mIoU_protoB: each present class perfect.
    assert float(oracle.split()[1]) == float(oracle.split()[4]) > 0
