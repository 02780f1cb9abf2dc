# SPDX-License-Identifier: MIT
"""cgspawn for Python: the cgspawn library (libcgspawn.so.0, through its C ABI with ctypes) and
the Avocado spawner plugin. Installs offline, without a compiler:

    pip install --no-index --no-build-isolation --no-deps ./python
"""
from setuptools import setup

setup(
    name="cgspawn",
    version="0.1.0",
    description="Run tasks in cgroups of their own, destroy them, and prove it (libcgspawn bindings)",
    license="MIT",
    packages=["cgspawn", "cgspawn_avocado"],
    python_requires=">=3.9",
    entry_points={
        "avocado.plugins.init": ["cgspawn = cgspawn_avocado.plugin:CgspawnInit"],
        "avocado.plugins.spawner": ["cgspawn = cgspawn_avocado.plugin:CgspawnSpawner"],
        "avocado.plugins.job.prepost": ["cgspawn = cgspawn_avocado.plugin:CgspawnJobSummary"],
    },
)
