# AVSBench-Semantic at original resolution, the protocol of CAVP / CPM Table 2
# (avss.md §4): train on one annotated frame per clip per iteration with
# h-flip, a scale from {0.5, 0.75, 1.0} and a 512x512 crop (padding: mean
# colour / ignore 255); test on whole clips at full resolution, batch 1. The
# numbers of that table are dataset-level (avss.md §5.2): compare them with
# the *_protoB keys, never with mIoU / Fscore.
_base_ = './avss_224x224.py'
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSRandomScaleCrop', scales=(0.5, 0.75, 1.0),
         crop_size=(512, 512), flip_prob=0.5),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    dataset=dict(sample_frames='one_annotated', pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
