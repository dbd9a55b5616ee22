# TPAVI + the CAVP contrastive loss on synthetic VPO-MS: the TPAVI VPO main
# job (configs/tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py)
# unchanged, plus CAVPContrastiveLoss on the stride-4 fused level (16x16 for
# a 64 crop: 64 samples per class, a bank of 8 slots).
_base_ = '../tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py'
model = dict(
    auxiliary_loss=dict(
        _delete_=True,
        type='CAVPContrastiveLoss',
        num_classes=22,
        num_samples=64,
        embed_level=0,
        bank_size=8))
