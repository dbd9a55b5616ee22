# AVSegFormer* on VPO-MSMI (CPM Table 3): one image with its 3-s stereo
# audio per item (the dataset config's pipeline: crop 512, CAVP's
# augmentation with colour jitter and stereo flip), 22 labels incl.
# background; the audio ResNet-18's first conv reads 2 channels and the
# spectrogram keeps 300 frames (cpm.md §2). Dataset-level numbers
# (*_protoB keys); model selection on a held-out train split (§8).
_base_ = [
    '../_base_/models/cpm_r50.py', '../_base_/datasets/vpo_msmi.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/cpm_adamw_poly_80e.py'
]
num_classes = 22
model = dict(
    backbone=dict(audio_frontend=dict(num_frames=300)),
    # The paper's inference rule (cpm.md §8).
    decode_head=dict(num_classes=num_classes, out_channels=num_classes,
                     audio_channels=2, inference='paper'))
train_dataloader = dict(batch_size=16)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
