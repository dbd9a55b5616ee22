# CAVP (ResNet-50) on AVSBench-Semantic at original resolution (Table 2:
# 50.75 mIoU / 64.57 F, dataset-level = the *_protoB keys of AVSSMetric,
# never mIoU / Fscore). One annotated frame per clip per iteration, h-flip,
# scale {0.5, 0.75, 1.0}, crop 512; test on whole clips at full resolution,
# batch 1. Audio: the clip's waveform (16 kHz, centre 10 s, mono) cut into
# 1-s pieces (LoadAVSSWaveform) → 96-frame spectrogram → VGGish-shaped net
# → 304. 71 classes, output stride 16, weight decay 1e-4, 80 epochs (the
# README; its config says 60).
_base_ = [
    '../_base_/models/cavp_r50_1s-audio.py',
    '../_base_/datasets/avss_original-res.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
num_classes = 71
model = dict(
    decode_head=dict(num_classes=num_classes, out_channels=num_classes),
    auxiliary_loss=dict(num_classes=num_classes))
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSRandomScaleCrop', scales=(0.5, 0.75, 1.0),
         crop_size=(512, 512), flip_prob=0.5),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(sample_frames='one_annotated', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(main=dict(optimizer=dict(weight_decay=1e-4)))
randomness = dict(seed=666)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
