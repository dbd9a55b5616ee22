"""The synthetic VPO tree: made by the VPO builder, generated on first use by
the synthetic VPO datasets, silent objects that vision alone cannot tell."""
import csv
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmavs  # noqa: F401
from mmavs.data_tools.synthetic_vpo import (META_FILE, SYNTHETIC_VPO_CLASS,
                                            make_synthetic_vpo)
from mmavs.datasets.vpo import CLASS_INDEX
from mmseg.registry import DATASETS

init_default_scope('mmseg')
IMAGES = dict(train=16, val=6)
PIPELINE = [dict(type='LoadAVSFrames'), dict(type='LoadVPOMask'),
            dict(type='LoadVPOAudio'), dict(type='PackAVSInputs')]


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_vpo'))
    make_synthetic_vpo(root, seed=2, size=32, images=IMAGES)
    return root


def test_layout_source_and_determinism(root, tmp_path):
    with open(osp.join(root, META_FILE)) as f:
        meta = json.load(f)
    assert meta['images'] == IMAGES and meta['size'] == 32
    assert meta['counts']['SS'] == IMAGES  # every image has an object
    for name in ('VPO-SS/vpo_ss_data_stereo.csv', 'VPO-MS/vpo_ms_data_stereo.csv',
                 'VPO-MSMI/vpo_msmi_data_stereo.csv',
                 'source/instances_train.json', 'source/audio_index.csv'):
        assert osp.isfile(osp.join(root, name)), name
    other = str(tmp_path / 'again')
    make_synthetic_vpo(other, seed=2, size=32, images=IMAGES)
    for name in ('VPO-MS/vpo_ms_data_stereo.csv',
                 'VPO-MSMI/vpo_msmi_data_stereo.csv'):
        with open(osp.join(root, name)) as a, open(osp.join(other, name)) as b:
            assert a.read() == b.read()


def test_ms_images_have_silent_objects(root):
    """Vision alone cannot tell: many MS images show objects that do not
    sound (one always sounds, each other with probability 0.4)."""
    with open(osp.join(root, 'source', 'instances_train.json')) as f:
        coco = json.load(f)
    visible = {}
    for ann in coco['annotations']:
        visible[ann['image_id']] = visible.get(ann['image_id'], 0) + 1
    with open(osp.join(root, 'VPO-MS', 'vpo_ms_data_stereo.csv')) as f:
        rows = list(csv.DictReader(f))
    sounding = {}
    for row in (r for r in rows if r['split'] == 'train'):
        sounding[int(row['img_Id'])] = sounding.get(int(row['img_Id']), 0) + 1
    assert sounding and all(1 <= n <= visible[i] for i, n in sounding.items())
    assert sum(sounding.values()) < 0.8 * sum(visible[i] for i in sounding)


def test_synthetic_dataset_generates_on_first_use(tmp_path):
    data = str(tmp_path / 'gen')
    options = dict(seed=0, size=32, images=dict(train=10, val=4))
    dataset = DATASETS.build(dict(
        type='SyntheticVPOMSDataset', data_root=data, synthetic=options,
        split='test', pipeline=PIPELINE))
    assert osp.isfile(osp.join(data, META_FILE)) and len(dataset) >= 1
    item = dataset[0]
    assert tuple(item['audio'].shape) == (1, 2, 48000)
    classes = set(item['data_samples'][0].gt_sem_seg.data.unique().tolist())
    assert classes - {0} <= {CLASS_INDEX[n] for n in
                             SYNTHETIC_VPO_CLASS.values()}
    # Reused when the options match, refused when they do not.
    DATASETS.build(dict(type='SyntheticVPOSSDataset', data_root=data,
                        synthetic=options, split='test', pipeline=PIPELINE))
    with pytest.raises(ValueError, match='other options'):
        DATASETS.build(dict(type='SyntheticVPOMSDataset', data_root=data,
                            synthetic=dict(options, seed=1), pipeline=[]))


def test_class_sounds_differ_in_the_spectrogram(root):
    """Each class's clips have their own pitch: the mel band with the most
    energy tells two classes apart."""
    import torch

    from mmavs.datasets.transforms.vpo_loading import load_clip
    from mmavs.models import SpectrogramFrontEnd
    front = SpectrogramFrontEnd(num_frames=300)
    peaks = {}
    for name in ('red_disc', 'blue_triangle'):
        wave = load_clip(osp.join(root, 'source', 'audio',
                                  f'{name}_train_0.wav'))
        spec = front(torch.from_numpy(wave).float()[None, None])
        peaks[name] = int(spec[0, 0].mean(0).argmax())
    assert peaks['red_disc'] != peaks['blue_triangle']
    assert np.isfinite(list(peaks.values())).all()
