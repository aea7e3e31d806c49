"""kilowatt: an OCPP platform: central system, charging station simulator and compliance harness."""

__version__ = "0.1.0"
