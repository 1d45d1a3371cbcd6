"""The standalone simulator process (``python -m vzaps_async.testing``)."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest

from vzaps_async.testing.__main__ import build_parser, main


async def read_settings(process: asyncio.subprocess.Process) -> dict[str, str]:
    assert process.stdout is not None
    settings: dict[str, str] = {}
    while "VZAPS_CLIENT_SECRET" not in settings:
        line = (await process.stdout.readline()).decode().strip()
        if not line:
            break
        key, _, value = line.partition("=")
        settings[key] = value
    return settings


async def test_standalone_prints_credentials_and_answers_token() -> None:
    """The process prints its URL and credentials, answers /token, and exits 0 on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vzaps_async.testing",
        "--port",
        "0",
        "--client-token",
        "ct_standalone",
        "--phones",
        "scan-after=0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        settings = await asyncio.wait_for(read_settings(process), timeout=20)
        assert settings["VZAPS_CLIENT_TOKEN"] == "ct_standalone"
        assert settings["VZAPS_BASE_URL"].startswith("http://127.0.0.1:")
        assert settings["VZAPS_REALTIME_URL"].startswith("ws://127.0.0.1:")
        body = {"client_token": "ct_standalone", "client_secret": settings["VZAPS_CLIENT_SECRET"]}
        async with aiohttp.ClientSession(settings["VZAPS_BASE_URL"]) as http:
            for _ in range(20):  # the port is bound before the settings are printed
                try:
                    async with http.post("/token", json=body) as response:
                        assert response.status == 200
                        assert (await response.json())["expires_in"] == 3600
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the standalone simulator did not answer /token within 2 s")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_parser_reads_phone_policies_and_faults() -> None:
    """The command line parses phone policies and fault probabilities."""
    args = build_parser().parse_args(
        ["--phones", "scan-after=2,on-qr=3", "--fault-429", "0.5", "--seed", "4"]
    )
    assert (args.phones.mode, args.phones.seconds, args.phones.on_qr) == ("scan_after", 2.0, 3)
    assert args.fault_429 == 0.5
    assert build_parser().parse_args(["--phones", "manual"]).phones.mode == "manual"


@pytest.mark.parametrize("argv", [["--phones", "sometimes"], ["--fault-5xx", "2"], ["--port", "x"]])
def test_bad_arguments_exit_with_usage_error(argv: list[str]) -> None:
    """Invalid options stop with argparse's usage error (exit status 2)."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
