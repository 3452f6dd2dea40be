"""Run Home Assistant with its start-up time-outs stretched: `hass_slow_start.py FACTOR HASS_ARGS...`.

For Home Assistant on a fast clock (libfaketime at FACTOR times; scripts/e2e, and scripts/demo with
DEMO_FAKETIME=1). Its start-up time-outs (bootstrap stage 1: 2 min, stage 2 and wrap-up: 5 min,
cool-down: 1 min) run on that clock too, so at 60x a start that takes more than 2-5 real seconds
has its imports cancelled; Home Assistant 2026.x loads about 100 integrations, and on a busy
machine 2026.10.4 then never opened its HTTP port. Times FACTOR, they last as long in real time as
on a real clock. Everything else is `hass HASS_ARGS...`.
"""

import sys

# This folder is sys.path[0]; its modules (client, seed) must not shadow anything.
sys.path.pop(0)

from homeassistant import bootstrap
from homeassistant.__main__ import main

factor = float(sys.argv.pop(1))
for name in ("STAGE_1_TIMEOUT", "STAGE_2_TIMEOUT", "WRAP_UP_TIMEOUT", "COOLDOWN_TIME"):
    if hasattr(bootstrap, name):
        setattr(bootstrap, name, getattr(bootstrap, name) * factor)
sys.argv[0] = "hass"
sys.exit(main())
