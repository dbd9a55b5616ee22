# Table V, 'without' (= Table III's LDM latent); 'with' is pvt_ms3.py.
_base_ = './table3_ldm.py'
