"""The default timings (config_flow.DEFAULT_OPTIONS) as the tests expect them, and time steps."""

from datetime import UTC, datetime, timedelta

DISCHARGE = timedelta(minutes=30)
STAGGER = timedelta(seconds=10)
STARTUP = timedelta(minutes=5)
VERIFY = timedelta(minutes=15)
SWITCH_TIMEOUT = timedelta(seconds=30)
STOP_TIMEOUT = timedelta(seconds=120)
THERMOSTAT_RETURN = timedelta(minutes=60)
SECOND = timedelta(seconds=1)
COARSE = timedelta(seconds=30)
# From the start of a run to the thermostat's return: discharge, stagger and start-up delay.
UNTIL_RESTORE = DISCHARGE + STAGGER + STARTUP
# A whole run with the default timings: discharge, stagger, start-up and a little verifying.
FULL_RUN = timedelta(minutes=37)
# Long enough for any resumed run to end, verification window included.
TO_THE_END = DISCHARGE + STARTUP + VERIFY + timedelta(minutes=5)
# A fixed morning for tests that count runs per day.
T0 = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
