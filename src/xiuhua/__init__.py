"""Xiuhua (绣花): an open digital urban management platform."""

__version__ = "0.1.0"
