# Table 5 "Dist. Rep.", M = 7 Gaussian components per class:
# 56.05 / 68.59.
_base_ = './table4_cpm.py'
model = dict(decode_head=dict(classifier='gmm', num_components=7))
