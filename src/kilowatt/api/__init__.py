"""The REST API of the CSMS: ``create_app(csms)`` gives the FastAPI application."""

from kilowatt.api.app import create_app

__all__ = ["create_app"]
