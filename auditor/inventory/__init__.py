"""The declared facts: organisations, information systems, hosts and endpoints (inventory.yaml)."""

from auditor.inventory.load import load_inventory
from auditor.inventory.model import Endpoint, Host, Inventory, Organisation, System

__all__ = ["Endpoint", "Host", "Inventory", "Organisation", "System", "load_inventory"]
