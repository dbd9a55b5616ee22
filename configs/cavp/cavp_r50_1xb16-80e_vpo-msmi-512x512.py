# CAVP (ResNet-50) on VPO-MSMI, stereo (Table 3: 60.36 / 75.60 / 22.12); the
# recipe of cavp_r50_1xb16-80e_vpo-ss-512x512.py.
_base_ = [
    '../_base_/models/cavp_r50.py', '../_base_/datasets/vpo_msmi.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
randomness = dict(seed=666)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
