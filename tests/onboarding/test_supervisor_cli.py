"""``vzaps-async supervise`` and ``onboard --supervise``: bad input, the summary, and a supervisor
SIGKILLed in the middle of healing a fleet that is restarted from its journal."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _shared import FAST, wait_for

from vzaps_async._client import Client
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    Snapshot,
    SQLiteJournal,
    State,
)
from vzaps_async.onboarding._cli import main as onboard_main
from vzaps_async.onboarding._cli_supervise import main as supervise_main
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

# QR codes live long enough for a phone to scan one while no supervisor is running.
LONG_QR = SimulatorConfig(first_qr_seconds=30.0, qr_seconds=30.0)
TUNING = [
    "--presenter",
    "none",
    "--poll-interval",
    "0.05",
    "--probe-interval",
    "0.2",
    "--trouble-interval",
    "0.1",
    "--grace",
    "0.5",
    "--stuck-after",
    "0.5",
    "--restart-wait",
    "0.5",
]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(LONG_QR, phones=PhonePolicy.scan_after(0.05)) as simulator:
        yield simulator


def env_for(sim: Simulator) -> dict[str, str]:
    return {
        **os.environ,
        "VZAPS_CLIENT_TOKEN": sim.client_token,
        "VZAPS_CLIENT_SECRET": sim.client_secret,
        "VZAPS_BASE_URL": sim.base_url,
    }


async def start_supervisor(sim: Simulator, journal: Path, *extra: str) -> anyio.abc.Process:
    command = [sys.executable, "-m", "vzaps_async", "supervise", "--journal", str(journal)]
    return await anyio.open_process(
        [*command, *TUNING, *extra], env=env_for(sim), stderr=subprocess.STDOUT
    )


async def test_a_supervisor_killed_mid_repair_continues_without_repeating_a_repair(
    sim: Simulator, tmp_path: Path
) -> None:
    """SIGKILLed while re-pairing, a restarted supervisor finishes the job from the journal:
    every instance connected, each logged-out one re-paired once, nothing created or billed."""
    path = tmp_path / "fleet.db"
    specs = [InstanceSpec(f"shop-{i:03}") for i in range(100)]
    async with (
        SQLiteJournal(path) as journal,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
    ):
        report = await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
        assert report.all_connected
        ids = {s.name: s.instance_id for s in await journal.load_all() if s.instance_id}
    names = sorted(ids)
    drops, logouts, cured, stubborn = names[:10], names[10:15], names[15:18], names[18:20]
    created, subscribed = dict(sim.counters.instances_created), dict(sim.counters.subscriptions)
    state = sim.state
    sim.state.phones = PhonePolicy.manual()  # re-pairs wait for this test's "person"

    first = await start_supervisor(sim, path)
    probes = "GET /instances/{id}/session/status"
    await wait_for(lambda: sim.counters.requests[probes] >= 100)
    for name in drops:
        await sim.drop(ids[name], 0.3)
    for name in logouts:
        await sim.logout(ids[name])
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client:
        for name in cured + stubborn:
            await sim.zombie(ids[name], cured_by="restart" if name in cured else "repair")
            await client.instance(ids[name]).messages.send_text("5511988887777", "stuck?")
    # Every logged-out instance shows a new QR (its re-pair is journaled) ...
    await wait_for(lambda: all(state.registry.instances[ids[n]].pairing for n in logouts))
    # ... two phones scan before the crash, and one while no supervisor runs.
    for name in logouts[:2]:
        await sim.scan(ids[name])
    await anyio.sleep(0.3)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    async with SQLiteJournal(path) as journal:  # the kill released it
        for name in logouts[2:]:
            killed = await journal.get(name)
            assert killed is not None
            assert (killed.state, killed.repairs) == (State.PAIRING, 1), name
    await sim.scan(ids[logouts[2]])
    sim.state.phones = PhonePolicy.scan_after(0.05)  # the others scan when shown a QR

    second = await start_supervisor(sim, path, "--duration", "6")
    assert second.stdout is not None
    output = b"".join([chunk async for chunk in second.stdout]).decode()
    assert await second.wait() == 0, output
    assert "Supervision summary" in output

    async with SQLiteJournal(path) as journal:
        snaps = {s.name: s for s in await journal.load_all()}
    assert all(s.state is State.CONNECTED for s in snaps.values())
    for name in logouts + stubborn:
        assert snaps[name].repairs == 1, name
    for name in drops + names[20:]:
        assert (snaps[name].disconnects, snaps[name].repairs) == (0, 0), name
    for name in cured + stubborn:
        # Restarted once by the run that journaled it; a restart the kill caught before it was
        # journaled is in the simulator's count only (restarts are free, so they are journaled
        # after the call), hence at most two sent.
        assert 1 <= sim.counters.misbehaviour["restarts"][ids[name]] <= 2, name
        assert snaps[name].restarts == 1, name
    for name in cured:
        assert snaps[name].repairs == 0, name
    for name in logouts:
        assert sim.counters.pairings[ids[name]] == 2, name  # onboarding, then one re-pair
    assert dict(sim.counters.instances_created) == created
    assert dict(sim.counters.subscriptions) == subscribed


def test_supervise_refuses_a_missing_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal that does not exist is refused (exit 2) with the option named."""
    assert supervise_main(["--journal", str(tmp_path / "none.db")]) == 2
    assert "--journal" in capsys.readouterr().err


def test_a_journal_record_that_does_not_decode_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal error raised inside the run is reported in one line with exit 2, not a
    traceback of an exception group."""
    journal = tmp_path / "j.db"

    async def write() -> None:
        async with SQLiteJournal(journal) as j:
            await j.save(Snapshot(name="shop-01"))

    anyio.run(write)
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE onboarding SET record = '{not json' WHERE name = 'shop-01'")
    monkeypatch.setenv("VZAPS_CLIENT_TOKEN", "token")
    monkeypatch.setenv("VZAPS_CLIENT_SECRET", "secret")
    monkeypatch.setenv("VZAPS_BASE_URL", "http://127.0.0.1:9")
    assert supervise_main(["--journal", str(journal), "--duration", "5"]) == 2
    err = capsys.readouterr().err
    assert "the record of 'shop-01'" in err
    assert "Traceback" not in err


def test_supervise_refuses_bad_options_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-positive interval is refused (exit 2) naming the command-line option."""
    journal = tmp_path / "j.db"
    journal.touch()
    assert supervise_main(["--journal", str(journal), "--probe-interval", "0"]) == 2
    assert "--probe-interval" in capsys.readouterr().err


def test_onboard_duration_needs_supervise(capsys: pytest.CaptureFixture[str]) -> None:
    """onboard --duration without --supervise is refused before anything runs."""
    assert onboard_main(["--count", "2", "--simulate", "--duration", "5"]) == 2
    assert "--supervise" in capsys.readouterr().err


def test_onboard_then_supervise_prints_both_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    """onboard --supervise hands the connected fleet to a supervisor and prints its summary."""
    code = onboard_main(
        ["--count", "3", "--simulate", "--plain", "--supervise", "--duration", "1", *TUNING]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Onboarding summary" in out
    assert "Supervision summary" in out


def test_onboard_serves_metrics_on_the_port_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """--metrics-port serves /metrics on 127.0.0.1 for the run and says where."""
    assert onboard_main(["--count", "2", "--simulate", "--plain", "--metrics-port", "0"]) == 0
    assert "metrics: http://127.0.0.1:" in capsys.readouterr().err


def test_a_bad_metrics_port_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    """A port out of range is refused (exit 2) before anything runs."""
    assert onboard_main(["--count", "2", "--simulate", "--metrics-port", "70000"]) == 2
    assert "--metrics-port" in capsys.readouterr().err


def test_metrics_without_the_extra_name_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--metrics-port without prometheus-client exits 2 naming the [metrics] extra to install."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "prometheus_client" else real(name, *a),
    )
    assert onboard_main(["--count", "1", "--simulate", "--metrics-port", "0"]) == 2
    assert "pip install 'vzaps-async[metrics]'" in capsys.readouterr().err
