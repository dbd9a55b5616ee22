# AVSegFormer with ResNet-50 on VPO-MSMI (CAVP Table 3: 54.22 / 70.39 / 25.51), the recipe of
# avsegformer_r50_1xb4-30e_vpo-ss-512x512.py (see there).
_base_ = './avsegformer_r50_1xb4-30e_vpo-ss-512x512.py'
train_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
val_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
test_dataloader = dict(dataset=dict(type='VPOMSMIDataset'))
