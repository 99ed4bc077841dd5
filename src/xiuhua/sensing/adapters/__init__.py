"""Storage of devices and readings, and the MQTT client."""
