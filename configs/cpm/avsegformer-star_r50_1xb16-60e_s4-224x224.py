# AVSegFormer* on AVSBench-object S4 at 224 (CPM Table 1 baseline row).
# Training: one random annotated frame per clip and iteration with its 1-s
# waveform (cpm.md §1), h-flip; test: whole 5-frame clips. Binary data:
# out_channels 1, the foreground probability S_fg / (S_fg + S_bg) (§8).
_base_ = [
    '../_base_/models/cpm_r50.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/default_runtime.py', '../_base_/schedules/cpm_adamw_poly.py'
]
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='AVSSRandomScaleCrop', scales=(1.0, ), crop_size=(224, 224),
         flip_prob=0.5),
    dict(type='LoadAudioWaveform'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAudioWaveform'),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(sample_frames='one_annotated', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
