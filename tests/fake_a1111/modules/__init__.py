"""FAKE ``modules`` package (A1111 stand-in for tests; see ../README.md)."""
