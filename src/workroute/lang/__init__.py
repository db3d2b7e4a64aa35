"""Language front ends (SOQL)."""
