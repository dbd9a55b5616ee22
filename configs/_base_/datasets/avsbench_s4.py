# AVSBench-Object S4: 3,452 / 740 / 740 clips of 5 frames at 224x224.
data_root = 'data/AVSBench'
dataset_type = 'AVSBenchS4Dataset'
clip_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs'),
]
# Workers for one GPU on a 16-core machine: 8 decode a 224x224 clip of 5 PNG
# frames fast enough for batches of 16 clips; persistent workers keep their
# state (and a cache, below) across epochs; pinned batches copy to the GPU
# asynchronously. On a machine with few cores lower num_workers. Where PNG
# decoding still cannot keep up, dataset=dict(cache_decoded=True) decodes each
# clip once, before the workers start, and keeps the uint8 frames, masks and
# log-mel features in memory (MS3 train ~0.25 GB, S4 train ~2.7 GB).
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
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
