"""The load harness's arithmetic (benchmarks/load): percentiles per action, the row for all
actions together, and the portal/bare ratio; no load runs here."""

from __future__ import annotations

import math

import pytest

from benchmarks.load.record import ALL, Recorder, ratio, rows, table


def recorded() -> Recorder:
    recorder = Recorder()
    for millisecond in range(1, 101):  # 1..100 ms
        recorder.success("open home", millisecond / 1000, [millisecond * 10])
    recorder.success("send message", 0.5, [2000, 100])
    recorder.failure("send message", "timeout")
    recorder.failure("send message", "error")
    return recorder


def test_each_action_gets_its_percentiles_errors_and_frame_sizes():
    home, message, every = rows(recorded(), ["open home", "send message"])
    assert (home.count, home.p50_ms, home.p95_ms, home.p99_ms) == (100, 51.0, 96.0, 100.0)
    assert (home.frame_p95_bytes, home.frame_max_bytes, home.errors) == (960, 1000, 0)
    assert (message.count, message.errors, message.frame_max_bytes) == (1, 2, 2000)
    assert (every.label, every.count, every.errors, every.p99_ms) == (ALL, 101, 2, 100.0)


def test_an_action_never_measured_shows_no_figures():
    (missing, every) = rows(Recorder(), ["open lab result"])
    assert missing.count == 0 and math.isnan(missing.p95_ms)
    assert "open lab result" in table([("portal", [missing, every])])


def test_the_ratio_compares_the_p95_of_all_actions():
    portal = rows(recorded(), ["open home", "send message"])[-1]
    bare = rows(recorded(), ["open home"])[-1]
    assert ratio(portal, bare).startswith("p95 ratio portal/bare: 1.0x")
    assert ratio(rows(Recorder(), ["x"])[-1], bare).endswith("not measured")


def test_the_harness_refuses_a_redis_database_off_this_machine(monkeypatch, capsys):
    from benchmarks.load.__main__ import _arguments

    monkeypatch.setattr("sys.argv", ["load", "--workers", "2", "--redis-url", "redis://cache:6379"])
    with pytest.raises(SystemExit):
        _arguments()
    assert "must be on this machine" in capsys.readouterr().err
    monkeypatch.setattr("sys.argv", ["load", "--redis-url", "redis://127.0.0.1:6379/7"])
    assert _arguments().redis_url == "redis://127.0.0.1:6379/7"
