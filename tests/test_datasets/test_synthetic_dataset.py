import os

import pytest
from mmseg.registry import DATASETS

from mmavs.datasets import ensure_synthetic_avsbench

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs')
]
OPTIONS = dict(seed=2, size=32, num_frames=2, s4_clips=dict(val=2),
               ms3_clips=dict(val=3))


def test_generated_on_first_use_then_reused(tmp_path):
    root = str(tmp_path / 'syn')
    dataset = DATASETS.build(
        dict(type='SyntheticMS3Dataset', data_root=root, split='val',
             num_frames=2, synthetic=OPTIONS, pipeline=PIPELINE))
    assert len(dataset) == 3
    assert dataset[0]['inputs'].shape == (2, 3, 32, 32)
    assert not any(n.startswith('syn.tmp') for n in os.listdir(tmp_path))
    stamp = os.path.getmtime(os.path.join(root, 'synthetic_meta.json'))
    s4 = DATASETS.build(
        dict(type='SyntheticS4Dataset', data_root=root, split='val',
             num_frames=2, synthetic=OPTIONS))
    assert len(s4) == 2
    assert os.path.getmtime(os.path.join(root, 'synthetic_meta.json')) == stamp


def test_other_options_or_foreign_folder_are_refused(tmp_path):
    root = str(tmp_path / 'syn')
    ensure_synthetic_avsbench(root, **OPTIONS)
    with pytest.raises(ValueError, match='generated with other options'):
        ensure_synthetic_avsbench(root, **dict(OPTIONS, seed=3))
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError, match='holds no synthetic_meta.json'):
        ensure_synthetic_avsbench(str(foreign), **OPTIONS)
    assert (foreign / 'notes.txt').read_text() == 'mine'


def test_synthetic_avss_generated_on_first_use_then_reused(tmp_path):
    from mmavs.datasets import ensure_synthetic_avss
    root = str(tmp_path / 'avss')
    options = dict(seed=1, size=16, clips=dict(v1m=dict(val=1),
                                               v2=dict(val=1)))
    dataset = DATASETS.build(dict(
        type='SyntheticAVSSDataset', data_root=root, split='val',
        synthetic=options, pipeline=[
            dict(type='LoadAVSFrames'), dict(type='LoadAVSSColorMask'),
            dict(type='LoadAVSSAudio'), dict(type='PackAVSInputs')]))
    assert len(dataset) == 2
    assert dataset[0]['inputs'].shape == (10, 3, 16, 16)
    ensure_synthetic_avss(root, **options)
    with pytest.raises(ValueError, match='generated with other options'):
        ensure_synthetic_avss(root, **dict(options, size=32))
