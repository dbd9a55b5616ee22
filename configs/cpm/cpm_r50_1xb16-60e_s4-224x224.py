# CPM on AVSBench-object S4 at 224 (Table 1): CCDM (GMM classifier, M = 3)
# with ACP, VCP and PCL, lambda = 1 (cpm.md §3-8).
_base_ = './avsegformer-star_r50_1xb16-60e_s4-224x224.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0))
