# SPDX-License-Identifier: MIT
"""The Avocado spawner plugin of cgspawn (`avocado run --spawner cgspawn`): see plugin.py and
docs/avocado.md. Kept apart from the cgspawn package so that Avocado can load it (and say what
is wrong) even where libcgspawn cannot be loaded."""
