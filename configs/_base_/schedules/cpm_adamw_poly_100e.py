# The CPM recipe over 100 epochs (AVSS, cpm.md §8).
_base_ = './cpm_adamw_poly.py'
max_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
