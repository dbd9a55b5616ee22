"""The VPO builder on a tiny generated COCO-format set: the layout it writes,
its choices, determinism, and that the VPO datasets read its output."""
import csv
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image, ImageDraw
from scipy.io import wavfile

import mmavs  # noqa: F401
from mmavs.data_tools.vpo_builder import (VPOBuildError, build_vpo,
                                          decode_rle_string, mask_to_rle,
                                          rle_to_mask)
from mmavs.datasets.vpo import CLASS_INDEX
from mmseg.registry import DATASETS

init_default_scope('mmseg')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 20, 30


def encode_rle_string(runs):
    """COCO's compressed RLE string (maskApi.c rleToString), for the test."""
    out = []
    for i, x in enumerate(runs):
        if i > 2:
            x -= runs[i - 2]
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return ''.join(out)


def box(x0, y0, x1, y1):
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def polygon(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def polygon_mask(poly):
    canvas = Image.new('L', (W, H), 0)
    ImageDraw.Draw(canvas).polygon(list(zip(poly[0][0::2], poly[0][1::2])),
                                   fill=1, outline=1)
    return np.asarray(canvas, bool)


def make_coco(root):
    """Train: image 1 (car polygon left, airplane RLE right), image 2 (two
    dogs, a cat as compressed RLE), image 3 (a crowd car, a person);
    val: image 4 (dog + horse), image 5 (a dog)."""
    root = str(root)
    categories = [dict(id=i, name=n) for i, n in
                  ((1, 'person'), (3, 'car'), (5, 'airplane'), (17, 'cat'),
                   (18, 'dog'), (19, 'horse'))]
    plane = mask_to_rle(box(20, 4, 28, 12))
    cat = mask_to_rle(box(22, 12, 28, 18))
    cat['counts'] = encode_rle_string(cat['counts'])
    anns = dict(train=[
        dict(id=11, image_id=1, category_id=3, segmentation=polygon(2, 4, 9,
                                                                    12)),
        dict(id=12, image_id=1, category_id=5, segmentation=plane),
        dict(id=21, image_id=2, category_id=18,
             segmentation=polygon(1, 1, 6, 8)),
        dict(id=22, image_id=2, category_id=18,
             segmentation=polygon(12, 1, 18, 8)),
        dict(id=23, image_id=2, category_id=17, segmentation=cat),
        dict(id=31, image_id=3, category_id=3, iscrowd=1,
             segmentation=polygon(1, 1, 5, 5)),
        dict(id=32, image_id=3, category_id=1,
             segmentation=polygon(8, 1, 12, 5)),
    ], val=[
        dict(id=41, image_id=4, category_id=18,
             segmentation=polygon(1, 1, 8, 8)),
        dict(id=42, image_id=4, category_id=19,
             segmentation=polygon(15, 5, 25, 15)),
        dict(id=51, image_id=5, category_id=18,
             segmentation=polygon(10, 5, 20, 15)),
    ])
    images = dict(train=[1, 2, 3], val=[4, 5])
    sets = []
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        img_dir = osp.join(root, 'coco', split)
        os.makedirs(img_dir, exist_ok=True)
        entries = []
        for image_id in images[split]:
            name = f'img{image_id}.png'  # PNG: the builder writes JPEG
            Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(
                osp.join(img_dir, name))
            entries.append(dict(id=image_id, file_name=name, height=H,
                                width=W))
        ann_file = osp.join(root, 'coco', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(images=entries, annotations=anns[split],
                           categories=categories), f)
        sets.append(dict(ann_file=ann_file, img_dir=img_dir, split=split))
    audio_dir = osp.join(root, 'clips')
    os.makedirs(audio_dir, exist_ok=True)
    rows = []
    for cls, splits in (('car', ['train']), ('airplane', ['train']),
                        ('cat', ['train']), ('dog', ['train', 'val']),
                        ('horse', ['val'])):
        for split in splits:
            for k in range(2):
                name = f'{cls}_{split}_{k}.wav'
                wavfile.write(osp.join(audio_dir, name), 16000,
                              (rng.normal(0, 0.1, 16000 * 4) * 32767
                               ).astype(np.int16))
                rows.append([name, cls, split])
    index = osp.join(audio_dir, 'index.csv')
    with open(index, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['file', 'class', 'split'])
        writer.writerows(rows)
    class_map = {'car': 'car', '5': 'airplane', 'cat': 'cat', 'dog': 'dog',
                 'horse': 'horse'}
    return dict(coco_sets=sets, class_map=class_map, audio_index=index)


def read_rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp('vpo_build')
    inputs = make_coco(base)
    out = str(base / 'vpo')
    counts = build_vpo(out, seed=0, **inputs)
    return dict(out=out, inputs=inputs, counts=counts, base=base)


def test_rle_round_trip_and_compressed_strings():
    mask = np.zeros((5, 7), bool)
    mask[1:4, 2:6] = True
    mask[0, 0] = True
    rle = mask_to_rle(mask)
    np.testing.assert_array_equal(rle_to_mask(rle), mask)
    compressed = dict(rle, counts=encode_rle_string(rle['counts']))
    assert decode_rle_string(compressed['counts']) == rle['counts']
    np.testing.assert_array_equal(rle_to_mask(compressed), mask)
    # Large runs and negative differences survive the 5-bit code.
    runs = [1000, 3, 40000, 2, 5, 70000]
    assert decode_rle_string(encode_rle_string(runs)) == runs


def test_layout_and_choices(built):
    out, counts = built['out'], built['counts']
    # Image 3 has only a crowd car and an unmapped person: never used.
    assert counts == {'SS': {'train': 2, 'val': 2},
                      'MS': {'train': 1, 'val': 1},
                      'MSMI': {'train': 2, 'val': 1}}
    ss = read_rows(osp.join(out, 'VPO-SS', 'vpo_ss_data_stereo.csv'))
    assert list(ss[0]) == ['cateName', 'img_Id', 'ann_Ids', 'cateId',
                           'vgg_file', 'split', 'audio_pos']
    # Multi-class images first.
    assert [r['img_Id'] for r in ss] == ['1', '2', '4', '5']
    ms = read_rows(osp.join(out, 'VPO-MS', 'vpo_ms_data_stereo.csv'))
    # Image 1: both objects sound (only 2 objects); one mask for the image.
    by_image = {}
    for r in ms:
        by_image.setdefault(r['img_Id'], []).append(r)
    assert sorted(by_image) == ['1', '4']
    assert sorted(r['cateName'] for r in by_image['1']) == ['airplane', 'car']
    assert len({r['ann_Ids'] for r in by_image['1']}) == 1
    assert {r['cateId'] for r in by_image['1']} == {'3', '5'}
    mask = np.asarray(Image.open(osp.join(
        out, 'VPO-MS', 'mask',
        f'000000000001_{int(by_image["1"][0]["ann_Ids"]):012d}.png')))
    assert mask.shape == (H, W)
    np.testing.assert_array_equal(mask == 3, polygon_mask(polygon(2, 4, 9,
                                                                  12)))
    np.testing.assert_array_equal(mask == 5, box(20, 4, 28, 12))
    car, = [r for r in by_image['1'] if r['cateName'] == 'car']
    cols = np.nonzero(mask == 3)[1]
    assert float(car['audio_pos']) == pytest.approx(cols.mean() / W, abs=1e-6)
    msmi = read_rows(osp.join(out, 'VPO-MSMI', 'vpo_msmi_data_stereo.csv'))
    assert list(msmi[0])[-1] == 'multi_instance'
    multi = [r for r in msmi if r['multi_instance'] == '1']
    # Image 2: one of its two dogs sounds; the other dog and the cat are
    # background.
    assert [(r['img_Id'], r['cateName']) for r in multi] == [('2', 'dog')]
    mask2 = np.asarray(Image.open(osp.join(
        out, 'VPO-MSMI', 'mask',
        f'000000000002_{int(multi[0]["ann_Ids"]):012d}.png')))
    assert set(np.unique(mask2)) == {0, 18}
    dogs = [polygon_mask(polygon(1, 1, 6, 8)), polygon_mask(polygon(12, 1, 18,
                                                                    8))]
    assert sum(bool(((mask2 == 18) == d).all()) for d in dogs) == 1
    assert len(msmi) == len(ms) + len(multi)
    # Images are JPEG, audio copied once per clip under vggsound/audios.
    with Image.open(osp.join(out, 'VPO-MS', 'data', '000000000001.jpg')) as im:
        assert im.format == 'JPEG' and im.size == (W, H)
    for row in ss + ms + msmi:
        assert osp.isfile(osp.join(out, 'vggsound', 'audios',
                                   row['vgg_file'] + '.wav'))
        assert row['vgg_file'].split('_')[0] == row['cateName']
        assert row['vgg_file'].split('_')[1] == row['split']


def test_deterministic_for_a_seed(built, tmp_path):
    again = str(tmp_path / 'again')
    build_vpo(again, seed=0, **built['inputs'])
    compare = filecmp.dircmp(built['out'], again)

    def same(cmp):
        assert not cmp.diff_files and not cmp.left_only and \
            not cmp.right_only, (cmp.left, cmp.diff_files)
        for sub in cmp.subdirs.values():
            same(sub)
    same(compare)


@pytest.mark.parametrize('subset', ['SS', 'MS', 'MSMI'])
def test_the_datasets_read_its_output(built, subset):
    pipeline = [dict(type='LoadAVSFrames'), dict(type='LoadVPOMask'),
                dict(type='LoadVPOAudio'), dict(type='PackAVSInputs')]
    for split in ('trainval', 'test'):
        dataset = DATASETS.build(dict(
            type=f'VPO{subset}Dataset', data_root=built['out'], split=split,
            pipeline=pipeline))
        assert len(dataset) == built['counts'][subset][
            'train' if split == 'trainval' else 'val']
        for i in range(len(dataset)):
            item = dataset[i]
            assert tuple(item['audio'].shape) == (1, 2, 48000)
            sample = item['data_samples'][0]
            present = set(sample.gt_sem_seg.data.unique().tolist()) - {0}
            assert present == set(sample.sounding_classes)
            assert present <= {CLASS_INDEX[c] for c in
                               ('car', 'airplane', 'cat', 'dog', 'horse')}


def test_bad_inputs(built, tmp_path):
    inputs = dict(built['inputs'])
    with pytest.raises(VPOBuildError, match='"wolf"'):
        build_vpo(str(tmp_path / 'a'), **dict(inputs,
                                             class_map={'dog': 'wolf'}))
    with pytest.raises(ValueError, match='MSMI lists the MS images'):
        build_vpo(str(tmp_path / 'b'), subsets=['MSMI'], **inputs)
    sets = [dict(s) for s in inputs['coco_sets']]
    Image.new('RGB', (W + 1, H)).save(osp.join(sets[0]['img_dir'],
                                               'img1.png'))
    try:
        with pytest.raises(VPOBuildError, match=f'img1.png is {W + 1}x{H}'):
            build_vpo(str(tmp_path / 'c'), **inputs)
    finally:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(
            osp.join(sets[0]['img_dir'], 'img1.png'))


def test_command_line(tmp_path):
    inputs = make_coco(tmp_path)
    with open(tmp_path / 'map.json', 'w') as f:
        json.dump(inputs['class_map'], f)
    cocos = []
    for s in inputs['coco_sets']:
        cocos += ['--coco', f'{s["split"]}:{s["ann_file"]}:{s["img_dir"]}']
    result = subprocess.run(
        [sys.executable, 'tools/dataset_converters/build_vpo.py',
         str(tmp_path / 'out'), *cocos, '--class-map',
         str(tmp_path / 'map.json'), '--audio-index', inputs['audio_index'],
         '--subsets', 'SS', '--seed', '3'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'VPO-SS: 2 train, 2 test (val)' in result.stdout
    assert osp.isfile(tmp_path / 'out' / 'VPO-SS' / 'vpo_ss_data_stereo.csv')
    assert not osp.exists(tmp_path / 'out' / 'VPO-MS')
