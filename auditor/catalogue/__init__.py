"""Content read from the workspace: the check catalogue (checks/) and the profiles (profiles/)."""
