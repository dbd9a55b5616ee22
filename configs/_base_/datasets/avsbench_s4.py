# AVSBench-Object S4: 3,452 / 740 / 740 clips of 5 frames at 224x224.
data_root = 'data/AVSBench'
dataset_type = 'AVSBenchS4Dataset'
clip_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
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
        pipeline=clip_pipeline))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], split='val', test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='AVSMetric')
test_evaluator = val_evaluator
