# Table 4 row 2: + CCDM (GMM classifier, M = 3; 54.12 / 66.65).
_base_ = './table4_baseline.py'
model = dict(decode_head=dict(classifier='gmm', num_components=3))
