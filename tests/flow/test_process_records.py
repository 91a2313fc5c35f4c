"""Whether a recorded process still runs: by pid and start time, robust to clock steps."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from wearable_pipeline.orchestration.processes import START_TIME_TOLERANCE_S, is_alive


def test_a_process_is_recognised_though_the_clock_was_stepped_since_it_was_recorded() -> None:
    recorded = psutil.Process().create_time()

    assert is_alive(os.getpid(), recorded)
    # psutil's start time moves with the boot time when the system clock is stepped (60 s seen)
    assert is_alive(os.getpid(), recorded - 60)
    assert is_alive(os.getpid(), recorded + 60)


def test_a_reused_pid_or_a_finished_process_is_not_the_recorded_one() -> None:
    recorded = psutil.Process().create_time()
    # the same pid, started long before or after the recorded process: another process
    assert not is_alive(os.getpid(), recorded - START_TIME_TOLERANCE_S - 3600)
    assert not is_alive(os.getpid(), recorded + START_TIME_TOLERANCE_S + 3600)

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    assert not is_alive(child.pid, started)
