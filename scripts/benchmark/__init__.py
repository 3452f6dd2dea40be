"""Benchmark of heat_pump_reset: added delay, scale, event loop, resume after a restart, storage.

Run it with `scripts/bench` (full) or `scripts/bench --short` (a quick pass that only checks it runs).
A real Home Assistant core runs in this process with simulated thermostats and power switches, as
real entities, on a simulated clock (freezegun). Time only moves when every run, entity and store
write is idle: the clock then jumps to the next scheduled timer (a discrete-event simulation), so the
simulated durations hold the integration's own delays and nothing of the harness. Real time and CPU
time (not simulated) give setup, CPU, event-loop and resume figures. See docs/performance.md.

The modules:
- `fleet`: the simulated heat pumps, built on the test fakes (tests/fakes.py) with latencies;
- `clock`: the simulated clock that jumps from timer to timer;
- `instruments`: what measures (event-loop probe, log capture, store write counter);
- `harness`: one Home Assistant core with N heat pumps (`Bench`);
- `phases`: following one run phase by phase, and each phase's physical floor;
- `scenarios`: scale, memory, resume after a restart, storage;
- `report`: the Markdown tables;
- `__main__`: the command line (`python -m scripts.benchmark`, as scripts/bench runs it).
"""

# Before Home Assistant is imported: make its clocks patchable by freezegun (as the test plugin does).
import pytest_homeassistant_custom_component.patch_time  # noqa: F401  # isort: skip
