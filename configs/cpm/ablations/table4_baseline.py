# Table 4 row 1: AVSegFormer* (AVSS original resolution; 53.04 / 65.29).
_base_ = '../avsegformer-star_r50_1xb16-100e_avss-512x512.py'
