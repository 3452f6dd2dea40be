"""Constants for the Heat Pump Reset integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "heat_pump_reset"

CONF_THERMOSTAT: Final = "thermostat"
CONF_SWITCHES: Final = "switches"
CONF_POWER_SENSOR: Final = "power_sensor"
CONF_DISCHARGE_MINUTES: Final = "discharge_minutes"
CONF_STARTUP_DELAY_MINUTES: Final = "startup_delay_minutes"
CONF_STOP_TIMEOUT_SECONDS: Final = "stop_timeout_seconds"
CONF_SWITCH_TIMEOUT_SECONDS: Final = "switch_timeout_seconds"
CONF_STAGGER_SECONDS: Final = "stagger_seconds"
CONF_VERIFY_MINUTES: Final = "verify_minutes"
# The running threshold of a power sensor, in W, and of a current sensor, in A.
CONF_POWER_THRESHOLD: Final = "power_threshold"
CONF_CURRENT_THRESHOLD: Final = "current_threshold"
# The "no power" level, below the running threshold: a cut is proven once the reading is at or
# below it (W for a power sensor, A for a current sensor; issue 13).
CONF_NO_POWER_THRESHOLD: Final = "no_power_threshold"
CONF_NO_POWER_CURRENT: Final = "no_power_current_threshold"
CONF_RECURRENCE_DAYS: Final = "recurrence_days"
CONF_RECURRENCE_COUNT: Final = "recurrence_count"
CONF_MAX_RESETS_PER_DAY: Final = "max_resets_per_day"
# The unit's fault entities (issue 13): sensors of its error code, problem binary sensors; and the
# states of those sensors that mean "no fault".
CONF_FAULT_ENTITIES: Final = "fault_entities"
CONF_NO_FAULT_STATES: Final = "no_fault_states"
# Outage protection (issue 14): off unless turned on per heat pump; the optional mains entity.
CONF_OUTAGE_PROTECTION: Final = "outage_protection"
CONF_MAINS_ENTITY: Final = "mains_entity"
# The compressor warm-up after a long outage (issue 14): the outdoor temperature sensor; the outage
# length from which, and the outdoor temperature at or below which (°C), the thermostat is held off;
# the longest hold (0: none); and the optional room temperature floor (°C) with its sensor (without
# one: the thermostat's current temperature).
CONF_OUTDOOR_TEMPERATURE: Final = "outdoor_temperature_entity"
CONF_WARMUP_AFTER_MINUTES: Final = "warmup_after_minutes"
CONF_WARMUP_TEMPERATURE: Final = "warmup_temperature"
CONF_LONGEST_WARMUP_MINUTES: Final = "longest_warmup_minutes"
CONF_ROOM_FLOOR: Final = "room_floor"
CONF_ROOM_TEMPERATURE: Final = "room_temperature_entity"

# The documented procedure needs at least 30 minutes for capacitors to discharge and the board to reset.
MIN_DISCHARGE_MINUTES: Final = 30
MAX_DISCHARGE_MINUTES: Final = 240

DEFAULT_DISCHARGE_MINUTES: Final = 30
DEFAULT_STARTUP_DELAY_MINUTES: Final = 5
DEFAULT_STOP_TIMEOUT_SECONDS: Final = 120
DEFAULT_SWITCH_TIMEOUT_SECONDS: Final = 30
DEFAULT_STAGGER_SECONDS: Final = 10
DEFAULT_VERIFY_MINUTES: Final = 15
DEFAULT_POWER_THRESHOLD: Final = 100.0  # W
DEFAULT_CURRENT_THRESHOLD: Final = 0.5  # A
DEFAULT_NO_POWER_THRESHOLD: Final = 5.0  # W
DEFAULT_NO_POWER_CURRENT: Final = 0.05  # A
DEFAULT_RECURRENCE_DAYS: Final = 30
DEFAULT_RECURRENCE_COUNT: Final = 3
# Resets a day before a start is refused without `force`: repeated resets strain the compressor.
DEFAULT_MAX_RESETS_PER_DAY: Final = 2

# The warm-up's defaults (issue 14): installers' advice is to leave the compressor off, power on,
# about as long as the outage lasted in the cold (Ruud: up to 8 hours; Ducane: 6 hours or more
# below 10 °C / 50 °F). 4 hours by default bounds the time without heat; 12 hours at most.
DEFAULT_WARMUP_AFTER_MINUTES: Final = 60
DEFAULT_WARMUP_TEMPERATURE: Final = 10.0  # °C
DEFAULT_LONGEST_WARMUP_MINUTES: Final = 240
MAX_WARMUP_MINUTES: Final = 720

# How long to wait for the thermostat to come back after power returns before giving up on it.
THERMOSTAT_RETURN_TIMEOUT_MINUTES: Final = 60

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DISCHARGE_MINUTES: Final = "discharge_minutes"
ATTR_REASON: Final = "reason"
ATTR_RUN_ID: Final = "run_id"
ATTR_LIMIT: Final = "limit"
ATTR_FORCE: Final = "force"

SERVICE_START_RESET: Final = "start_reset"
SERVICE_CANCEL_RESET: Final = "cancel_reset"
SERVICE_GET_HISTORY: Final = "get_history"

# The config entry's version; minor 2: running thresholds in W and A (before: the sensor's unit).
ENTRY_VERSION: Final = 1
ENTRY_MINOR_VERSION: Final = 2

# Bus events at each run's start and end, described in the logbook (logbook.py). Their data:
# config_entry_id, name, entity_id (the Reset event entity), run_id, trigger, reason; at the start
# also faults (the fault entities' states) and outage_source (an outage run's; None for a
# reset); at the end also outcome, detail, started_at, finished_at, power_cut and power_off_minutes.
EVENT_RUN_STARTED: Final = f"{DOMAIN}_run_started"
EVENT_RUN_ENDED: Final = f"{DOMAIN}_run_ended"
# Home Assistant down at least this long before it starts tells of an outage (issue 14).
OUTAGE_DOWN_MINUTES: Final = 5
EVENT_OUTAGE_ENDED: Final = f"{DOMAIN}_outage_ended"

# Store layouts: a new major version is one an older release cannot read (it puts power back and
# keeps the data for diagnostics); a new minor version only adds keys.
STORAGE_VERSION: Final = 1
STORAGE_MINOR_VERSION: Final = 1
HISTORY_STORAGE_VERSION: Final = 1
# 1.2: `unreadable`, the stored data this release could not read.
HISTORY_STORAGE_MINOR_VERSION: Final = 2
STORAGE_KEY_PREFIX: Final = f"{DOMAIN}.run."
HISTORY_KEY_PREFIX: Final = f"{DOMAIN}.history."

# Repair issue keys; an issue id is f"{key}_{entry_id}" (plus the entity id for a missing entity).
ISSUE_RECURRING_RESETS: Final = "recurring_resets"
# The texts of the recurring-resets issue when only the day's limit made it due (same issue id).
ISSUE_DAILY_LIMIT: Final = "daily_limit_reached"
ISSUE_NO_START: Final = "no_start_after_reset"
# The texts of the no-start issue when an outage run raised it (issue 14; same issue id).
ISSUE_NO_START_AFTER_OUTAGE: Final = "no_start_after_outage"
# The unit's fault came back after a reset: a technician's job; automatic resets are refused.
ISSUE_FAULT_RETURNED: Final = "fault_returned"
ISSUE_POWER_NOT_RESTORED: Final = "power_not_restored"
ISSUE_MISSING_ENTITY: Final = "missing_entity"
# One per entity that two or more heat pumps wrap: f"{key}_{entity_id}" (not tied to one entry).
ISSUE_SHARED_ENTITY: Final = "shared_entity"
ISSUE_DISABLED_ENTITY: Final = "disabled_entity"
# Power still flowing after a cut (a welded relay, the wrong circuit): no reset starts until it is
# acknowledged.
ISSUE_POWER_STILL_FLOWING: Final = "power_still_flowing"
# How long power may stay unconfirmed after the discharge wait ends before it is a critical issue.
POWER_RESTORE_GRACE: Final = timedelta(minutes=2)
