# AVSBench-Semantic, the 224 protocol of AVSBench / TPAVI (avss.md §4):
# clips padded to 10 frames; train = short side to 224 + centre crop, val /
# test = resize to 224x224 (scored there). Official metric (avss.md §5.1,
# keys mIoU / Fscore) plus the dataset-level protocol under *_protoB keys.
data_root = 'data/AVSS'
dataset_type = 'AVSSDataset'
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSResize224', mode='train'),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSResize224', mode='test'),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='avs_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train',
        sample_frames='all', pipeline=train_pipeline))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], split='val',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='AVSSMetric')
test_evaluator = val_evaluator
