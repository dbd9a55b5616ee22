# Table III, 'LDM latent': latent diffusion without the contrastive loss.
_base_ = '../pvt_ms3.py'
model = dict(neck=dict(contrastive_loss=None))
