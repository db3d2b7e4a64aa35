"""The record store: per-object tables, the save pipeline, SOQL execution."""
