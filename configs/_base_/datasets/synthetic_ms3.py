# Synthetic MS3-style data (generated on first use), 64x64 frames.
_base_ = './avsbench_s4.py'
data_root = 'data/synthetic_avsbench'
dataset_type = 'SyntheticMS3Dataset'
synthetic = dict(
    seed=0, size=64, num_frames=5,
    s4_clips=dict(train=64, val=16, test=16),
    ms3_clips=dict(train=64, val=16, test=16))
_dataset = dict(type=dataset_type, data_root=data_root, synthetic=synthetic)
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=_dataset)
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=_dataset)
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=_dataset)
