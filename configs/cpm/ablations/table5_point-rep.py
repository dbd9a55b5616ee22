# Table 5 "Point Rep.": learnable prototypes with softmax instead of the
# GMM, prototypes as prompts; everything else CPM (55.96 / 68.58).
_base_ = './table4_cpm.py'
model = dict(decode_head=dict(classifier='prototype'))
