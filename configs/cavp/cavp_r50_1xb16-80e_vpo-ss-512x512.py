# CAVP (ResNet-50) on VPO-SS, stereo (cavp.md §4–7; Table 3: 62.31 mIoU /
# 78.46 F / 13.56 FDR, dataset-level at original resolution = the
# *_protoB keys of VPOMetric). Crop 512, batch 16, 80 epochs, SGD 1e-3 (10x
# decoder / head), Adam 1e-3 for the audio ResNet-18, poly per iteration;
# CE + CAVPContrastiveLoss (w = 1, tau = 0.1, 512 samples per class, sound
# bank from epoch 1). Model selection on the 5 % hold-out 'val'.
_base_ = [
    '../_base_/models/cavp_r50.py', '../_base_/datasets/vpo_ss.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
randomness = dict(seed=666)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
