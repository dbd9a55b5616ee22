from .avsbench import (AVSBenchDataset, AVSBenchMS3Dataset, AVSBenchS4Dataset,
                       DatasetLayoutError)
from .avss import AVSSDataset
from .collate import avs_collate
from .synthetic_dataset import (SyntheticAVSSDataset, SyntheticMS3Dataset,
                                SyntheticS4Dataset, SyntheticVPOMSDataset,
                                SyntheticVPOMSMIDataset, SyntheticVPOSSDataset,
                                ensure_synthetic_avsbench,
                                ensure_synthetic_avss, ensure_synthetic_vpo)
from .transforms import *  # noqa: F401,F403
from .vpo import (VPO_CLASSES, VPODataset, VPOMSDataset, VPOMSMIDataset,
                  VPOSSDataset)

__all__ = [
    'AVSBenchDataset', 'AVSBenchMS3Dataset', 'AVSBenchS4Dataset', 'AVSSDataset',
    'DatasetLayoutError', 'avs_collate', 'SyntheticMS3Dataset',
    'SyntheticS4Dataset', 'ensure_synthetic_avsbench', 'SyntheticAVSSDataset',
    'ensure_synthetic_avss', 'VPO_CLASSES', 'VPODataset', 'VPOMSDataset',
    'VPOMSMIDataset', 'VPOSSDataset', 'SyntheticVPOMSDataset',
    'SyntheticVPOMSMIDataset', 'SyntheticVPOSSDataset', 'ensure_synthetic_vpo'
]
