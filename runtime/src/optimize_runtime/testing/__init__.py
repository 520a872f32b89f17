"""Test support shared by every package's tests: finding servers, isolating names, minting tokens."""
