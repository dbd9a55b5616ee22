# Table 5 "Dist. Rep.", M = 1 Gaussian components per class:
# 55.83 / 68.68.
_base_ = './table4_cpm.py'
model = dict(decode_head=dict(classifier='gmm', num_components=1))
