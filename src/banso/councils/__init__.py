"""Councils (協議会, DESIGN C1–C6): formation by consent, pledges, meetings, decisions, requests."""
