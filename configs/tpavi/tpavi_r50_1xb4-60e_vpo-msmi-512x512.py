# TPAVI with ResNet-50 on VPO-MSMI (CAVP Table 3: 51.73 / 68.85 / 26.75), the recipe of
# tpavi_r50_1xb4-60e_vpo-ss-512x512.py (see there).
_base_ = './tpavi_r50_1xb4-60e_vpo-ss-512x512.py'
train_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
val_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
test_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
