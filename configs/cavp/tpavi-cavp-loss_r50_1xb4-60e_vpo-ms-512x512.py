# TPAVI + the CAVP contrastive loss on VPO-MS: the TPAVI VPO baseline
# (configs/tpavi/tpavi_r50_1xb4-60e_vpo-ms-512x512.py, Table 3 TPAVI 54.30 /
# 71.95 / 22.45) with CAVPContrastiveLoss as an auxiliary loss. The embedding
# is the fused stride-4 level (embed_level=0) as the head leaves it; the
# shuffled pass re-encodes the shuffled audio and re-runs only the TPAVI
# blocks on the cached projections. Nothing else changes (cf. Table 4:
# TPAVI vs. f_CA + SupCon).
_base_ = '../tpavi/tpavi_r50_1xb4-60e_vpo-ms-512x512.py'
model = dict(
    auxiliary_loss=dict(
        _delete_=True,
        type='CAVPContrastiveLoss',
        num_classes=22,
        temperature=0.1,
        num_samples=512,
        embed_level=0,
        loss_weight=1.0,
        bank_size=16,
        ow_rate=0.5,
        ow_start_epoch=1))
