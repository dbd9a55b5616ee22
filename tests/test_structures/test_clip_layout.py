"""ClipLayout: building it from data samples, and its per-clip helpers."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmavs.structures import ClipLayout


def frame_sample(clip, frame, num_frames, **meta):
    sample = SegDataSample(metainfo=dict(clip_index=clip, frame_index=frame,
                                         num_frames=num_frames, **meta))
    return sample


def test_uniform_layout():
    layout = ClipLayout.uniform(2, 3)
    assert len(layout) == 6 and layout.num_clips == 2
    assert layout.lengths == (3, 3) and layout.is_uniform
    assert layout.clip_index.tolist() == [0, 0, 0, 1, 1, 1]
    assert layout.frame_index.tolist() == [0, 1, 2] * 2
    assert layout.frame_valid.all() and not layout.annotated.any()
    assert layout.offsets.tolist() == [0, 3]
    assert layout.batch_clip.tolist() == [0, 0, 0, 1, 1, 1]
    assert layout.groups() == [(3, None)]


def test_from_data_samples_reads_metainfo_and_defaults():
    samples = [frame_sample(7, t, 2, frame_valid=t == 0, annotated=t == 0)
               for t in range(2)]
    samples.append(SegDataSample(gt_sem_seg=PixelData(
        data=torch.zeros(1, 2, 2))))  # a single frame, no metainfo
    samples.append(SegDataSample())
    layout = ClipLayout.from_data_samples(samples, [2, 1, 1])
    assert layout.lengths == (2, 1, 1)
    assert layout.clip_index.tolist() == [7, 7, 1, 2]  # default: batch pos.
    assert layout.frame_index.tolist() == [0, 1, 0, 0]
    assert layout.frame_valid.tolist() == [True, False, True, True]
    # annotated defaults to "has a mask"
    assert layout.annotated.tolist() == [True, False, True, False]
    # Without lengths, each clip's num_frames metainfo says where it ends.
    walked = ClipLayout.from_data_samples(
        samples[:2] + [frame_sample(3, 0, 1)])
    assert walked.lengths == (2, 1)
    with pytest.raises(ValueError, match='do not add up'):
        ClipLayout.from_data_samples([frame_sample(0, 0, 5)])
    with pytest.raises(ValueError, match='4 data samples for clips of'):
        ClipLayout.from_data_samples(samples, [2, 1])


def test_split_groups_and_apply_per_clip():
    layout = ClipLayout.from_lengths([5, 10, 5, 1])
    assert not layout.is_uniform and len(layout) == 21
    x = torch.arange(21.0)[:, None]
    parts = layout.split(x)
    assert [len(p) for p in parts] == [5, 10, 5, 1]
    assert torch.equal(parts[2][:, 0], torch.arange(15.0, 20.0))
    groups = layout.groups()
    assert [t for t, _ in groups] == [1, 5, 10]
    assert groups[1][1].tolist() == list(range(5)) + list(range(15, 20))

    calls = []

    def per_clip(t, clips):
        calls.append(tuple(clips.shape))
        # a per-clip operation: subtract the clip's first frame
        return (clips - clips[:, :1], )

    out, = layout.apply_per_clip(per_clip, x)
    assert sorted(calls) == [(1, 1, 1), (1, 10, 1), (2, 5, 1)]
    expected = torch.cat([p - p[:1] for p in parts])
    assert torch.equal(out, expected)
    with pytest.raises(ValueError, match='20 frames does not fit'):
        layout.split(x[:20])


def test_repeat_and_to():
    layout = ClipLayout.from_lengths([2, 1], first_clip_index=4)
    stacked = layout.repeat(3)
    assert len(stacked) == 9 and stacked.lengths == (2, 1) * 3
    assert stacked.clip_index.tolist() == [4, 4, 5] * 3
    assert layout.repeat(1) is layout
    moved = layout.to(torch.device('cpu'))
    assert moved.lengths == layout.lengths and moved.device.type == 'cpu'
    assert layout.to(None) is layout


def test_bad_layouts():
    with pytest.raises(ValueError, match='every clip needs a frame'):
        ClipLayout.from_lengths([2, 0])
    with pytest.raises(ValueError, match='frame_valid has shape'):
        ClipLayout(num_frames=torch.tensor([2]),
                   clip_index=torch.zeros(2).long(),
                   frame_index=torch.arange(2),
                   frame_valid=torch.ones(3, dtype=torch.bool),
                   annotated=torch.ones(2, dtype=torch.bool))
