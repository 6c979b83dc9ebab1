"""The central service of a fleet of cabins (see README, "The hub")."""
