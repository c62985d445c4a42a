"""Pingan Desk: GIS situational-awareness client for a district command center."""
