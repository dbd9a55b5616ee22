# AVSegFormer* on AVSS (all 71 classes) at 224 (CPM Table 1): trained on
# one annotated frame per clip and iteration with its 1-s waveform; tested
# on whole clips with the 224 protocol. Compare with the *_protoB keys
# (dataset level, avss.md §5.2); mIoU / Fscore are the official protocol.
_base_ = [
    '../_base_/models/cpm_r50.py', '../_base_/datasets/avss_224x224.py',
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
    dict(type='AVSSResize224', mode='train'),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSResize224', mode='test'),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(sample_frames='one_annotated', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
# Fig. 3b's classification coverage (key `coverage`) next to the mIoUs.
val_evaluator = [
    dict(type='AVSSMetric'),
    dict(type='ClassCoverageMetric', num_classes=num_classes)
]
test_evaluator = val_evaluator
