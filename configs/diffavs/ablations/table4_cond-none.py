# Table IV: condition 'none', without the contrastive loss (lambda_2 = 0).
_base_ = '../pvt_ms3.py'
model = dict(neck=dict(condition='none', contrastive_loss=None))
