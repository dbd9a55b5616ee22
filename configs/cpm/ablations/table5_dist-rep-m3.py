# Table 5 "Dist. Rep.", M = 3 Gaussian components per class:
# 57.25 / 70.54, = CPM.
_base_ = './table4_cpm.py'
model = dict(decode_head=dict(classifier='gmm', num_components=3))
