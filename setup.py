"""Install mmavs.

``pip install -e ".[lite]"`` also installs mmcv-lite (pure Python, no compiled
ops), enough for everything in mmavs. If a full ``mmcv`` (< 2.2, with compiled
ops) is already installed, use ``pip install -e .``: nothing here requires an
mmcv distribution, so yours is left in place.
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt``."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmavs', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmavs',
    version=read_version(),
    description='Audio-visual segmentation (DiffusionAVS, TPAVI, AVSegFormer) '
    'on MMSegmentation 1.x',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
    include_package_data=True,
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'lite': read_requirements('mminstall.txt'),
        'mim': read_requirements('mminstall.txt'),
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
        # 'all' gets mmpretrain through 'tests', not torchvision: that must
        # fit your torch build (docs/en/get_started.md).
        'mmpretrain': read_requirements('mmpretrain.txt'),
        'all': read_requirements('optional.txt') +
        read_requirements('tests.txt'),
    },
    zip_safe=False)
