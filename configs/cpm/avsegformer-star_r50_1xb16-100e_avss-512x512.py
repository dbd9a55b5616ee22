# AVSegFormer* on AVSS at original resolution (CPM Table 2; Table 4's
# baseline row): one annotated frame per clip, h-flip, scale from
# {0.5, 0.75, 1.0}, 512x512 crop; whole clips at full resolution, batch 1.
# Dataset-level numbers: the *_protoB keys.
_base_ = [
    '../_base_/models/cpm_r50.py', '../_base_/datasets/avss_original-res.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/cpm_adamw_poly_100e.py'
]
num_classes = 71
# The paper's inference rule (cpm.md §8): each pixel takes the class of the
# query maximising p_i(c_i) sigma(m_i).
model = dict(
    decode_head=dict(num_classes=num_classes, out_channels=num_classes,
                     inference='paper'))
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
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
# Fig. 3b's classification coverage (key `coverage`) next to the mIoUs.
val_evaluator = [
    dict(type='AVSSMetric'),
    dict(type='ClassCoverageMetric', num_classes=num_classes)
]
test_evaluator = val_evaluator
