"""Budget share: the cybersecurity part of every IT / digital-transformation plan and project (budget.yaml)."""
