"""The findings lifecycle shared by every check family: open, seen again, resolved, accepted risk."""
