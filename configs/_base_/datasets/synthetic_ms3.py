# Synthetic MS3-style data (generated on first use), 64x64 frames.
_base_ = './avsbench_s4.py'
data_root = 'data/synthetic_avsbench'
dataset_type = 'SyntheticMS3Dataset'
synthetic = dict(
    seed=0, size=64, num_frames=5,
    s4_clips=dict(train=64, val=16, test=16),
    ms3_clips=dict(train=64, val=16, test=16))
_dataset = dict(type=dataset_type, data_root=data_root, synthetic=synthetic)
# Small 64x64 clips read in the main process; no pinning (the CPU main job
# would warn about it on every loader).
_loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(dataset=_dataset, **_loader)
val_dataloader = dict(dataset=_dataset, **_loader)
test_dataloader = dict(dataset=_dataset, **_loader)
