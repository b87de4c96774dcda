"""Scanning agents, one per network zone: they probe what the central plan sends them and return signed
observations; evaluation, findings, the ledger and the store stay central."""
