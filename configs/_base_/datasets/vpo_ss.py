# VPO-SS (cavp.md §1, §7): one sounding object per sample, stereo audio
# (3 s, 16 kHz, panned by audio_pos). Training: h-flip that mirrors the stereo
# image (every subset, SS included: cavp.md §10.2), colour jitter, a scale
# from {0.5, ..., 2.0} (bicubic) and a 512 crop padded with the mean colour
# (masks: 255); 'train' is the CSV's train rows minus the 5 % hold-out that
# forms 'val' (seed 0; model selection on it), 'test' is the CSV's 'val'.
# Test: full image, batch 1. Metric: dataset-level mIoU / F / FDR over the
# 22 classes (VPOMetric: *_protoB keys; cavp.md §8).
# Audio clips are read from <audio_root>/audios/<vgg_file>.wav; audio_root
# defaults to <data_root>/vggsound (where build_vpo.py writes them): set it
# for the released VGGSound clips.
data_root = 'data/VPO'
dataset_type = 'VPOSSDataset'
crop_size = (512, 512)
audio_channels = 2
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio', channels=2),
    dict(type='VPORandomFlip', prob=0.5),
    dict(type='AVSColorJitter', brightness=0.5, contrast=0.5, saturation=0.5,
         hue=0.25),
    dict(type='AVSSRandomScaleCrop',
         scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0), crop_size=crop_size,
         flip_prob=0.0),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio', channels=2),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='avs_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train',
        audio_channels=audio_channels, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='avs_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val',
        audio_channels=audio_channels, pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='VPOMetric', num_classes=22)
test_evaluator = val_evaluator
