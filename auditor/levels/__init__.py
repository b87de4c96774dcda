"""Security levels: regimes in force by date, level criteria as data, and the proposal for a system."""
