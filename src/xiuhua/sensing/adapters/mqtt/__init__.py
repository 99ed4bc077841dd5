"""MQTT: a QoS 1 subscriber that acknowledges only after its batch is committed, and a publisher."""
