"""Consent: removing a participant who withdraws it (`wearable forget`)."""
