# CPM on VPO-SS (Table 3).
_base_ = './avsegformer-star_r50_1xb16-80e_vpo-ss-512x512.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0))
