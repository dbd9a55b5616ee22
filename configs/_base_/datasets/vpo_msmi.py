# VPO-MSMI: VPO-MS plus images with several instances of one class, some
# silent; stereo tells them apart. Everything else as vpo_ss.py.
_base_ = './vpo_ss.py'
dataset_type = 'VPOMSMIDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
