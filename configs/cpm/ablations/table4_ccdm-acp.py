# Table 4 row 4: + CCDM + ACP (55.07 / 68.03).
_base_ = './table4_ccdm.py'
model = dict(decode_head=dict(use_acp=True))
