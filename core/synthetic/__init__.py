"""Seeded generators of demo and test data in the real file formats."""
