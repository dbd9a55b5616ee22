# Mono variant of vpo_ms.py (CAVP's Fig. 7 stereo-vs-mono comparison): the
# sources' clips are summed without panning, audio (1, 1, 48000); the flip
# leaves mono audio unchanged. Reads the stereo CSV (audio_pos is ignored)
# or a mono CSV without audio_pos (set ann_file).
_base_ = './vpo_ms.py'
audio_channels = 1
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio', channels=1),
    dict(type='VPORandomFlip', prob=0.5),
    dict(type='AVSColorJitter', brightness=0.5, contrast=0.5, saturation=0.5,
         hue=0.25),
    dict(type='AVSSRandomScaleCrop',
         scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0), crop_size=(512, 512),
         flip_prob=0.0),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadVPOMask'),
    dict(type='LoadVPOAudio', channels=1),
    dict(type='PackAVSInputs'),
]
train_dataloader = dict(
    dataset=dict(audio_channels=1, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(audio_channels=1, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(audio_channels=1, pipeline=test_pipeline))
