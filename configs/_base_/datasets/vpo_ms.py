# VPO-MS: several sounding classes per image, their clips panned and summed.
# Everything else as vpo_ss.py.
_base_ = './vpo_ss.py'
dataset_type = 'VPOMSDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
