# AVSegFormer with ResNet-50 on VPO-MS (CAVP Table 3: 58.33 / 74.28 / 22.13), the recipe of
# avsegformer_r50_1xb4-30e_vpo-ss-512x512.py (see there).
_base_ = './avsegformer_r50_1xb4-30e_vpo-ss-512x512.py'
train_dataloader = dict(dataset=dict(type='VPOMSDataset'))
val_dataloader = dict(dataset=dict(type='VPOMSDataset'))
test_dataloader = dict(dataset=dict(type='VPOMSDataset'))
