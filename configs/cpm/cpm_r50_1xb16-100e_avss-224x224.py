# CPM on AVSS at 224 (Table 1).
_base_ = './avsegformer-star_r50_1xb16-100e_avss-224x224.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0))
