"""The emulator's own end-to-end checks (tests/emulator/smoke.py) against a fresh emulator."""

import os
import subprocess
import sys

from conftest import ROOT, _bin, free_port, stop, wait_ready


def test_emulator_end_to_end():
    port = free_port()
    emu = subprocess.Popen([_bin("SWITCHYARD_EMULATOR_BIN", "switchyard-emulator"), "--listen", f"127.0.0.1:{port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/_emulator/health", emu)
        run = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "emulator", "smoke.py"), f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert " 0 failed" in run.stdout
    finally:
        stop(emu)
