"""Storage of cameras and notices, vision models, SMS gateways, phone number encryption."""
