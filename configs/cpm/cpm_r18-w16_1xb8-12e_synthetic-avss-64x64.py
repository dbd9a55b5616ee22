# CPM on the synthetic AVSS data: the synthetic AVSegFormer* with CCDM
# (M = 3), ACP, VCP and PCL (lambda = 1); same data and budget.
_base_ = './avsegformer-star_r18-w16_1xb8-12e_synthetic-avss-64x64.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0,
                     # 64 pixels per class at stride 4 of a 64x64 frame.
                     pcl_loss=dict(type='PCLLoss', max_pixels=64)))
