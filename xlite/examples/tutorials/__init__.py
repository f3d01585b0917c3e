"""The TF1 tutorials' support modules."""
