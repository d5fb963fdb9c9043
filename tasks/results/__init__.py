"""Regression results: readers of every format into one table, the Parquet store, and the comparison."""
