"""Native record models of the four channels, one module per channel."""

from connectors.channels.grid import GridEvent
from connectors.channels.hotline12345 import HotlineOrder
from connectors.channels.property962121 import PropertyRepair
from connectors.channels.urban12319 import UrbanCase

__all__ = ["GridEvent", "HotlineOrder", "PropertyRepair", "UrbanCase"]
