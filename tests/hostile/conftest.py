"""Keep the hostile-corpus tests on one xdist worker, so the corpus is graded once."""

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.module.__name__.endswith("test_hostile"):
            item.add_marker(pytest.mark.xdist_group("hostile-corpus"))
