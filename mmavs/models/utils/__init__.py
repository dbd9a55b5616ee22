from .ckpt_convert import (AVSEGFORMER_UNUSED_PREFIXES, TPAVI_UNUSED_PREFIXES,
                           ConversionResult, avsegformer_to_mmavs,
                           detect_tpavi_backbone, pvtv2_to_mit, strip_prefix,
                           tpavi_to_mmavs)
from .diffusion_schedule import (add_noise, cosine_alphas_cumprod, ddim_step,
                                 ddim_timesteps, predict_z0)
from .gmm_classifier import GMMClassifier
from .hungarian_matcher import (HungarianMatcher, dice_cost, focal_cost,
                                semantic_to_targets)
from .linear_query_classifier import LinearQueryClassifier
from .offscreen_noise import (NoiseList, mix_magnitudes,
                              pick_offscreen_partners)
from .point_sample import point_sample, uncertain_points
from .prototype_classifier import PrototypeClassifier
from .query_classifier import QueryClassifier
from .weight_init import (STRICT_INIT_TYPES, PretrainedPVTv2Init,
                          PretrainedVGGishInit, StrictPretrainedInit,
                          WeightFileError, check_pretrained_layout,
                          read_state_dict)

__all__ = [
    'AVSEGFORMER_UNUSED_PREFIXES', 'avsegformer_to_mmavs',
    'TPAVI_UNUSED_PREFIXES', 'ConversionResult', 'detect_tpavi_backbone',
    'pvtv2_to_mit', 'strip_prefix', 'tpavi_to_mmavs', 'STRICT_INIT_TYPES',
    'PretrainedPVTv2Init', 'PretrainedVGGishInit', 'StrictPretrainedInit',
    'WeightFileError', 'check_pretrained_layout', 'read_state_dict',
    'add_noise', 'cosine_alphas_cumprod', 'ddim_step', 'ddim_timesteps',
    'predict_z0', 'HungarianMatcher', 'dice_cost', 'focal_cost',
    'semantic_to_targets', 'point_sample', 'uncertain_points',
    'GMMClassifier', 'LinearQueryClassifier', 'PrototypeClassifier',
    'QueryClassifier', 'NoiseList', 'mix_magnitudes',
    'pick_offscreen_partners'
]
