"""End-to-end check of Heat Pump Reset in a real Home Assistant, beside the script users write instead.

Run by scripts/e2e as `python -m scripts.endtoend` (it sets PYTHONPATH to scripts/demo_config,
installs libfaketime if needed and bounds the run). It drives the `hass` program only through its REST and WebSocket APIs, as a client:

1. a fresh configuration from the demo's (scripts/demo_config) plus a second simulated heat pump with
   the usual script (scripts/e2e_config/peer_heat_pump.yaml); one plain start: onboarding (a user and
   tokens), Heat Pump Reset added through the config flow for the demo thermostat and breaker;
2. Home Assistant started again under libfaketime (its clock E2E_SPEED times fast, default 60), then
   two scenarios, each for both heat pumps at once:
   - restart: a reset and the script start, `kill -9` during the discharge wait, start again;
   - offline: a reset and the script start, both breakers go unavailable during the wait and come
     back some minutes after power was due back.
3. the MQTT family (`mqtt`, `mqtt_scenarios`; E2E_MQTT=0 leaves it out): a third heat pump on
   simulated Tasmota-like relays and a thermostat behind a real Mosquitto, through Home Assistant's
   MQTT platforms, with its own four scenarios; `__main__` calls it at four marked points;
   then the outage scenario (`outage_scenarios`, issue 14): outage protection on through the
   options flow, the demo's mains off for 70 minutes at -5 °C, the warm-up, `kill -9` during it;
4. checks on Heat Pump Reset (exit 1 if any fails) and observations of the script, printed as a
   result block.

Times in the output are Home Assistant's (faked) clock; "fake min" is a minute on that clock.

The modules:
- `hass`: the `hass` process (started, stopped, killed) and its clock as the driver knows it;
- `api`: Home Assistant's REST and WebSocket APIs with a user's tokens;
- `harness`: the driver's state, its checks and waits, what it reads from Home Assistant, and the
  set-up (configuration, onboarding, the config flow);
- `scenarios`: restart and offline, for Heat Pump Reset and the script side by side;
- `mqtt`, `mqtt_scenarios`, `mqtt_device`: the MQTT family (broker, devices, entries; its four
  scenarios; the device process);
- `outage_scenarios`: a power outage with the compressor's warm-up and a kill during it;
- `times`: times in Home Assistant's answers (parse, print, a switch's recorded states);
- `report`: the result block (its last line is what CI and people read);
- `__main__`: the whole run, in order.
"""
