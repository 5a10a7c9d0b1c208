"""Test support shared by the tests and bench/ scripts (real models, servers)."""
