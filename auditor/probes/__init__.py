"""Probes: they touch the network (only the targets the plan gives them) and return plain observations."""
