# CPM on AVSS at original resolution (Table 2; Table 4's last row).
_base_ = './avsegformer-star_r50_1xb16-100e_avss-512x512.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0))
