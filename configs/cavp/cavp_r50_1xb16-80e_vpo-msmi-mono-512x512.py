# CAVP (ResNet-50) on VPO-MSMI with mono audio (the stereo-vs-mono
# comparison of Fig. 7; its numbers are only in the supplement): the audio
# ResNet-18 reads one spectrogram channel. Otherwise
# cavp_r50_1xb16-80e_vpo-msmi-512x512.py.
_base_ = [
    '../_base_/models/cavp_r50.py', '../_base_/datasets/vpo_msmi_mono.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
model = dict(backbone=dict(audio=dict(in_channels=1)))
randomness = dict(seed=666)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
