"""Importing mmavs registers its components in mmseg's registries."""
import subprocess
import sys
import textwrap


def test_import_registers_everything_in_a_fresh_interpreter(tmp_path):
    code = textwrap.dedent(f"""
        from mmengine.config import Config
        from mmengine.registry import FUNCTIONS, init_default_scope
        cfg = Config(dict(custom_imports=dict(imports=['mmavs'])))
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
        init_default_scope('mmseg')
        from mmseg.registry import DATASETS, METRICS, TRANSFORMS
        from mmavs.data_tools.synthetic_avsbench import make_synthetic_avsbench
        make_synthetic_avsbench({str(tmp_path)!r}, size=16, num_frames=1,
                                s4_clips=dict(test=1), ms3_clips=dict(test=1))
        for name in ('AVSBenchS4Dataset', 'AVSBenchMS3Dataset'):
            ds = DATASETS.build(dict(type=name, data_root={str(tmp_path)!r},
                                     split='test', num_frames=1))
            assert len(ds) == 1, name
        for name in ('LoadAVSFrames', 'LoadAVSMasks', 'LoadAVSAudio',
                     'PackAVSInputs', 'LoadAudioWaveform',
                     'WaveformToLogMel'):
            TRANSFORMS.build(dict(type=name))
        TRANSFORMS.build(dict(type='ResizeAVSClip', scale=(8, 8)))
        for name in ('LoadAVSSColorMask', 'LoadAVSSAudio', 'LoadAVSSWaveform',
                     'AVSSResize224', 'AVSSRandomScaleCrop'):
            TRANSFORMS.build(dict(type=name))
        for name in ('AVSSDataset', 'SyntheticAVSSDataset', 'VPOSSDataset',
                     'VPOMSDataset', 'VPOMSMIDataset', 'SyntheticVPOSSDataset',
                     'SyntheticVPOMSDataset', 'SyntheticVPOMSMIDataset'):
            assert DATASETS.get(name) is not None, name
        for name in ('LoadVPOMask', 'LoadVPOAudio', 'VPORandomFlip',
                     'AVSColorJitter'):
            TRANSFORMS.build(dict(type=name))
        METRICS.build(dict(type='AVSMetric'))
        METRICS.build(dict(type='AVSSMetric'))
        METRICS.build(dict(type='VPOMetric'))
        METRICS.build(dict(type='ClassCoverageMetric', num_classes=3))
        from mmseg.registry import HOOKS, MODELS
        for name in ('AVSSegmentor', 'AudioVisualBackbone', 'VGGish',
                     'TPAVINeck', 'LatentDiffusionNeck', 'CVAELatentNeck',
                     'LatentNeck', 'DiffusionLatentModel', 'CVAELatentModel',
                     'IdentityNeck',
                     'AVSFPNHead',
                     'AVSegFormerHead', 'AVMatchingLoss', 'ContrastiveLoss',
                     'BinaryDiceLoss', 'AudioResNet', 'SpectrogramFrontEnd',
                     'VGGishLogMelFrontEnd', 'MaskSetLoss',
                     'SigmoidFocalLoss', 'ACPLoss', 'PCLLoss',
                     'LinearQueryClassifier', 'PrototypeClassifier',
                     'GMMClassifier', 'CPMAudioEncoder', 'AudioFPN',
                     'CPMHead',
                     'CAVPNeck', 'CAVPDecoder',
                     'SigmoidCrossAttentionFusion', 'CAVPHead',
                     'CAVPContrastiveLoss'):
            assert MODELS.get(name) is not None, name
        from mmseg.registry import WEIGHT_INITIALIZERS
        for name in ('StrictPretrained', 'PretrainedPVTv2',
                     'PretrainedVGGish'):
            assert WEIGHT_INITIALIZERS.get(name) is not None, name
        from mmseg.registry import TASK_UTILS
        assert TASK_UTILS.get('HungarianMatcher') is not None
        for name in ('FreezeModuleHook', 'UncertaintyVisualizationHook',
                     'MatchingStabilityHook'):
            assert HOOKS.get(name) is not None, name
        from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
        for name in ('AVSOptimWrapperConstructor',
                     'AVSMultiOptimWrapperConstructor'):
            assert OPTIM_WRAPPER_CONSTRUCTORS.get(name) is not None, name
        assert FUNCTIONS.get('avs_collate') is not None
        print('registered')
        """)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'registered' in result.stdout
