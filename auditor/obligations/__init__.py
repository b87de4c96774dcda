"""Obligations: each rule of the regulation judged pass / fail / not applicable, with its evidence."""
