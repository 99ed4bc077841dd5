"""Sensing: devices, messages, rules and episodes; MQTT intake, business-system feeds, shared bikes."""
