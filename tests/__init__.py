"""Tests of the Spectronics VoIP integration."""
