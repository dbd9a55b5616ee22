# Table VI: latent size D = 8 (D = 24 is pvt_ms3.py).
_base_ = '../pvt_ms3.py'
model = dict(neck=dict(latent_dim=8))
