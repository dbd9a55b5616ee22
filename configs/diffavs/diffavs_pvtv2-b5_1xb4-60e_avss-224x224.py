# DiffusionAVS on AVSBench-Semantic (71 classes; TIP Table II reports PVTv2-b5
# 38.1 mIoU / 0.430 F). The paper gives no AVSS recipe: this is the TPAVI AVSS
# recipe (60 epochs, batch 4, Adam 1e-4, softmax cross-entropy per supervised
# frame) with DiffusionAVS's own losses (lambda_1 = 1 diffusion, lambda_2 =
# 0.1 contrastive) and, as in its S4 / MS3 configs, no matching loss. E_phi
# reads the ground truth as 71 one-hot channels (docs/en/diffavs.md).
_base_ = [
    '../_base_/models/diffavs_pvtv2-b5.py',
    '../_base_/datasets/avss_224x224.py', '../_base_/schedules/adam_60e.py',
    '../_base_/default_runtime.py'
]
num_classes = 71
model = dict(
    neck=dict(mask_classes=num_classes, fusion=dict(align_bias=False)),
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)))
train_cfg = dict(val_begin=16)
