"""Library code of the data tools: AVSBench preparation from videos
(:mod:`.avsbench_prepare`), the dataset check (:mod:`.avsbench_check`) and the
synthetic data generators (:mod:`.synthetic_avsbench`,
:mod:`.synthetic_video`).

They are not dataset classes: the scripts in ``tools/`` (and the synthetic
datasets, which generate their tree on first use) call them. Import the
submodules directly; this package imports nothing eagerly, so that
``mmavs.datasets`` can use the generators without an import cycle.
"""
