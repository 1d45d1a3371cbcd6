"""The pytest plugin's fixtures (registered through the pytest11 entry point)."""

from __future__ import annotations

from typing import Any

import aiohttp

from vzaps_async.testing import Simulator


async def test_vzaps_sim_fixture_serves_the_api(vzaps_sim: Simulator) -> None:
    """The vzaps_sim fixture is a started simulator whose default account can get a token."""
    body = {"client_token": vzaps_sim.client_token, "client_secret": vzaps_sim.client_secret}
    async with (
        aiohttp.ClientSession(vzaps_sim.base_url) as http,
        http.post("/token", json=body) as response,
    ):
        assert response.status == 200
    assert vzaps_sim.realtime_url == vzaps_sim.base_url.replace("http://", "ws://")
    assert vzaps_sim.state.phones.mode == "manual"


async def test_vzaps_client_fixture_is_bound_to_the_simulator(
    vzaps_sim: Simulator, vzaps_client: Any
) -> None:
    """The vzaps_client fixture talks to vzaps_sim with retry sleeps off."""
    assert vzaps_client.config.base_url == vzaps_sim.base_url
    assert vzaps_client.config.retry.sleep is False
    page = await vzaps_client.instances.list()
    assert page.total == 0
    assert vzaps_sim.counters.requests["POST /instances/list"] == 1


def test_plugin_module_does_not_import_segno() -> None:
    """Importing the plugin does not import segno (kept cheap for every pytest run)."""
    import subprocess
    import sys

    code = "import sys, vzaps_async.testing.pytest_plugin; print('segno' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


def test_without_pytest_asyncio_the_plugin_leaves_a_users_sync_tests_alone(
    tmp_path: Any,
) -> None:
    """Where pytest-asyncio is not installed (the core install), the registered plugin loads
    without error and defines no fixtures, so a plain sync test suite passes."""
    import subprocess
    import sys

    (tmp_path / "test_user.py").write_text("def test_sync() -> None:\n    assert True\n")
    # A finder that refuses pytest_asyncio makes it unimportable, as if it were not installed.
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pytest_asyncio':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import pytest\n"
        # (--assert=plain: pytest's rewriting import hook would find it first)
        "sys.exit(pytest.main(['-q', '--assert=plain', '-p', 'no:asyncio', "
        "'-p', 'no:cacheprovider', "
        "'--fixtures', 'test_user.py']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vzaps_sim" not in result.stdout
    code = code.replace("'--fixtures', ", "")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
