# Synthetic VPO-MS (generated on first use by the VPO builder from synthetic
# shapes and class tones; mmavs/data_tools/synthetic_vpo.py), 64x64 images:
# ~300 training images (95 %; 5 % hold-out for validation), ~49 test images.
# Stereo audio, the VPO training augmentation with a 64 crop; full images
# at test time. Dataset-level metric over the 22 VPO classes (only 8 occur:
# the oracle's mIoU_protoB is 9/22 = 0.409; mIoU_protoB_present is 1.0).
_base_ = './vpo_ms.py'
data_root = 'data/synthetic_vpo'
dataset_type = 'SyntheticVPOMSDataset'
synthetic = dict(seed=0, size=64, images=dict(train=400, val=64))
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio', channels=2),
    dict(type='VPORandomFlip', prob=0.5),
    dict(type='AVSColorJitter', brightness=0.5, contrast=0.5, saturation=0.5,
         hue=0.25),
    dict(type='AVSSRandomScaleCrop',
         scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0), crop_size=(64, 64),
         flip_prob=0.0),
    dict(type='PackAVSInputs'),
]
_dataset = dict(type=dataset_type, data_root=data_root, synthetic=synthetic)
# Small images read in the main process; no pinning.
_loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(batch_size=8, dataset=dict(_dataset,
                        pipeline=train_pipeline), **_loader)
val_dataloader = dict(dataset=_dataset, **_loader)
test_dataloader = dict(dataset=_dataset, **_loader)
