# TPAVI with ResNet-50 on VPO-MS (CAVP Table 3: 54.30 / 71.95 / 22.45), the recipe of
# tpavi_r50_1xb4-60e_vpo-ss-512x512.py (see there).
_base_ = './tpavi_r50_1xb4-60e_vpo-ss-512x512.py'
train_dataloader = dict(dataset=dict(type='VPOMSDataset'))
val_dataloader = dict(dataset=dict(type='VPOMSDataset'))
test_dataloader = dict(dataset=dict(type='VPOMSDataset'))
