# CAVP (ResNet-50) on VPO-MS, stereo (Table 3: 64.31 / 78.92 / 18.67); the
# recipe of cavp_r50_1xb16-80e_vpo-ss-512x512.py.
_base_ = [
    '../_base_/models/cavp_r50.py', '../_base_/datasets/vpo_ms.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
randomness = dict(seed=666)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
