"""The declared facts: organisations, information systems, hosts and endpoints (inventory.yaml); load_inventory in
auditor.inventory.load validates them into the models of auditor.inventory.model."""
