"""Evaluation: observations and declared facts in, outcomes (pass / fail / indeterminate / n.a.) out. No I/O."""
