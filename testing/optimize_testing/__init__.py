"""Test support shared by every package's tests: finding servers, isolating names, minting tokens,
installations of the three services. A workspace member of its own, used by the tests only."""
