"""Tests for the Heat Pump Reset integration."""
