"""The test harness: everything the tests share except fixtures (those are in tests/conftest.py).

No test module imports another; each imports what it shares from here:

- `entity_ids`: the ids of the fake heat pump's entities and of ours.
- `timings`: the default timings as the tests expect them, time steps, the fixed test date.
- `equipment`: the fake heat pump (tests/fakes.py) as one bundle, and reading what it was told.
- `driving`: moving simulated time, starting and cancelling through the actions, reading states
  and what the stores hold on "disk".
- `restarts`: stopping (or crashing) Home Assistant and starting it again.
- `holding`: the `Scene` of a test, stopping a run right after a store write, and holding a run
  in each phase.
- `fault_tally`: the fault matrix's counts and table, printed by conftest's summary hook.
- `forms`: submitting and reading the options form, whose fields sit in sections.
- `integration_files`: the integration's own files (manifest, strings, sources) for the static checks.
"""

import pytest

# The helpers assert; let pytest explain their failures as it does in test modules.
pytest.register_assert_rewrite(
    *(f"tests.harness.{name}" for name in ("driving", "equipment", "holding", "restarts"))
)
